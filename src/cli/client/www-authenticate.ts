/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface AuthChallenge {
  scheme: string;
  /** auth-params by lower-cased name, quoted strings unquoted. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` value, which may hold several challenges
 * separated by the same commas that separate their parameters:
 * `Bearer error="insufficient_user_authentication", acr_values="mfa", max_age=300, Basic realm="x"`.
 */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];
  const out: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: AuthChallenge | null = null;
  while (i < n) {
    skipSpace();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const name = token();
    if (name === '') {
      i++; // not a token character: skip it rather than loop forever on a malformed header
      continue;
    }
    skipSpace();
    if (header[i] === '=' && current) {
      i++;
      skipSpace();
      let value: string;
      if (header[i] === '"') {
        i++;
        value = '';
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      current.params[name.toLowerCase()] = value;
      continue;
    }
    current = { scheme: name, params: {} };
    out.push(current);
  }
  return out;
}

/** The Bearer challenge's parameters, if the header has one. */
export function bearerChallenge(header: string | null | undefined): Record<string, string> | null {
  return parseWwwAuthenticate(header).find((c) => c.scheme.toLowerCase() === 'bearer')?.params ?? null;
}
