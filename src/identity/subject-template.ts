/** A claim value usable in a principal: no spaces or control characters. */
const SAFE_VALUE = /^[^\s\x00-\x1f\x7f]+$/;

/**
 * Maps a foreign token's claims to a jitgate principal with the trusted
 * issuer's template (`user:{sub}`, `user:{email}`). Null when a placeholder's
 * claim is missing, not a string, or unsafe: an unmappable subject gets no token.
 */
export function mapSubject(template: string, claims: Record<string, unknown>): string | null {
  let failed = false;
  const out = template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (_m, name: string) => {
    const v = claims[name];
    if (typeof v !== 'string' || v === '' || !SAFE_VALUE.test(v)) {
      failed = true;
      return '';
    }
    return v;
  });
  return failed ? null : out;
}
