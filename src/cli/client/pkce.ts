import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636 S256: a 256-bit verifier and its challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}

/** An unguessable `state` binding the browser's answer to this login. */
export function newState(): string {
  return randomBytes(16).toString('base64url');
}
