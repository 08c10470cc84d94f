/**
 * The two cookies of the login: the session (after sign-in) and the pre-login
 * binding (before it). On an https issuer they carry the `__Host-` prefix,
 * which browsers accept only with Secure, Path=/ and no Domain; on a plain
 * http issuer (loopback tests, a local demo) a `__Host-` cookie would be
 * refused, so the plain name without Secure is used there.
 */
export interface CookieNames {
  session: string;
  browser: string;
  secure: boolean;
}

export function cookieNames(issuer: string): CookieNames {
  const secure = issuer.startsWith('https:');
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}jitgate_session`, browser: `${prefix}jitgate_login`, secure };
}

/** The value of one cookie of a Cookie header; undefined when absent. A cookie sent twice counts as absent. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found && /^[A-Za-z0-9_-]{1,128}$/.test(found) ? found : undefined;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/, Secure on https; `maxAgeS` 0 deletes it. */
export function setCookie(name: string, value: string, opts: { secure: boolean; maxAgeS?: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeS !== undefined) parts.push(`Max-Age=${opts.maxAgeS}`);
  return parts.join('; ');
}
