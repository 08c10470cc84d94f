/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits a space-delimited scope parameter; null when a token is malformed. */
export function parseScopeParam(value: string): string[] | null {
  const out: string[] = [];
  for (const s of value.split(' ')) {
    if (s === '') continue;
    if (!SCOPE_TOKEN.test(s)) return null;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}
