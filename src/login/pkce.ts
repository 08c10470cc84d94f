import { createHash } from 'node:crypto';
import { constantTimeEqual } from './secrets.js';

/** RFC 7636 §4.1: 43–128 characters of the unreserved set. Challenges (S256, base64url of 32 bytes) are 43. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function validChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** The S256 check of RFC 7636 §4.6, compared in constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  return constantTimeEqual(computed, challenge);
}
