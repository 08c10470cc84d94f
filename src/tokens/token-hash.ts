import { createHash } from 'node:crypto';
import { randomBase64url } from '../util/random-pool.js';

/**
 * base64url SHA-256 of the whole token, as stored with the token's row: it
 * proves a presented token is the one issued without keeping the token.
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * A fresh token id: the issuing millisecond as 12 hex digits, then 80
 * random bits as base64url (26 characters). Ids that grow with time land at
 * the end of the `tokens` primary-key index instead of at random places in
 * it; measured on SQLite with the table of a loaded server, a random 128-bit
 * id cost about 15 µs more per recorded token, most of the index work. The
 * random part alone keeps ids unique across nodes; nothing relies on a jti
 * being unguessable (it is inside a token its holder already has, and no
 * endpoint acts on a jti without the caller's own authority).
 */
export function newJti(nowMs: number = Date.now()): string {
  return Math.floor(nowMs).toString(16).padStart(12, '0') + randomBase64url(10);
}
