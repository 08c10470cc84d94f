/**
 * Changes to `signing_keys` (the first key, a rotation) are read-then-write:
 * two processes doing one at once must not both decide. This runs such a
 * change in a transaction that holds the table's write lock from its start.
 */
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/open.js';
import type { Database } from '../store/schema.js';

export async function withSigningKeysLock<T>(store: Store, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return store.db.transaction().execute(async (trx) => {
    if (store.dialect === 'postgres') {
      // Conflicts with itself and with writers, not with plain reads: running
      // servers keep verifying while a rotation commits.
      await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
    }
    // SQLite: the store's write transactions begin IMMEDIATE, which already
    // holds the database's write lock from the first statement.
    return fn(trx);
  });
}
