/**
 * Client keys for private_key_jwt are public keys. A policy file lives in git,
 * so a private or symmetric key in it is a leaked secret, never a config choice.
 */

/** Members that only private or symmetric keys have (RFC 7518 §6). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const REQUIRED: Record<string, readonly string[]> = {
  EC: ['crv', 'x', 'y'],
  RSA: ['n', 'e'],
  OKP: ['crv', 'x'],
};

export interface JwkProblem {
  /** The member the problem is about, or null for the key as a whole. */
  member: string | null;
  message: string;
}

/** What is wrong with a JWK meant to verify client assertions; empty when it is usable. */
export function publicJwkProblems(key: Record<string, unknown>): JwkProblem[] {
  const out: JwkProblem[] = [];
  for (const member of SECRET_MEMBERS) {
    if (member in key) {
      out.push({
        member,
        message:
          member === 'k'
            ? 'a symmetric key is a secret and must not be in the policy file; publish a public key (EC, RSA or OKP)'
            : `"${member}" is private key material and must not be in the policy file; keep only the public key`,
      });
    }
  }
  const kty = key.kty;
  if (typeof kty !== 'string') {
    out.push({ member: 'kty', message: 'a JWK needs kty (EC, RSA or OKP)' });
    return out;
  }
  const required = REQUIRED[kty];
  if (!required) {
    if (kty !== 'oct') out.push({ member: 'kty', message: `unsupported key type "${kty}"; use EC, RSA or OKP` });
    return out;
  }
  for (const member of required) {
    if (typeof key[member] !== 'string' || key[member] === '') {
      out.push({ member, message: `an ${kty} public key needs "${member}"` });
    }
  }
  for (const member of ['kid', 'alg', 'use'] as const) {
    if (member in key && typeof key[member] !== 'string') out.push({ member, message: `"${member}" must be a string` });
  }
  return out;
}
