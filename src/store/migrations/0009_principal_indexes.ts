import type { Kysely } from 'kysely';
import type { JitgateMigration } from './migration.js';

/**
 * Revoking a principal (src/access/principal-revocation.ts) ends its refresh
 * token families and its login sessions by `principal`; without these
 * indexes each revocation scanned both tables whole, inside the write
 * transaction that every other writer waits for.
 */
export const principalIndexes: JitgateMigration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('refresh_tokens_principal_idx').on('refresh_tokens').column('principal').execute();
    await db.schema.createIndex('login_sessions_principal_idx').on('login_sessions').column('principal').execute();
  },
};
