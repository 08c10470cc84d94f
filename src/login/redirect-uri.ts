/**
 * Whether `requested` is one of the client's registered redirect URIs:
 * exact string equality, except that a loopback redirect
 * (`http://127.0.0.1` or `http://[::1]`) may use any port (RFC 8252 §7.3),
 * because a native app listens on whatever port the OS gives it. `localhost`
 * is not treated as loopback (RFC 8252 §8.3: it may resolve elsewhere).
 */
export function redirectUriAllowed(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const req = loopback(requested);
  if (!req) return false;
  return registered.some((r) => {
    const reg = loopback(r);
    return reg !== null && reg.host === req.host && reg.rest === req.rest;
  });
}

/** Host and everything after the port of a loopback http URL, or null. */
function loopback(uri: string): { host: string; rest: string } | null {
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^#]*)?$/.exec(uri);
  if (!m) return null;
  if (m[2] !== undefined && Number(m[2]) > 65535) return null;
  return { host: m[1]!, rest: m[3] ?? '' };
}
