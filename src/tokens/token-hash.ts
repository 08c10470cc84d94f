import { createHash } from 'node:crypto';
import { randomBase64url } from '../util/random-pool.js';

/**
 * base64url SHA-256 of the whole token, as stored with the token's row: it
 * proves a presented token is the one issued without keeping the token.
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A fresh token id: 128 random bits, base64url (22 characters). */
export function newJti(): string {
  return randomBase64url(16);
}
