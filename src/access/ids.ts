import { randomBytes } from 'node:crypto';

/** Opaque ids with a kind prefix (`req_…`, `gr_…`): 96 random bits, unguessable. */
export function newId(prefix: 'req' | 'gr'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
