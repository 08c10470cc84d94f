import type { Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { strictTable, type JitgateMigration } from './migration.js';

/** users: jitgate's own identity source (see ../schema.ts and src/identity/local-users.ts). */
export const users: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    await strictTable(
      dialect,
      db.schema
        .createTable('users')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('totp_secret_enc', 'text')
        .addColumn('totp_last_step', instant)
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', instant)
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('updated_at', instant, (c) => c.notNull()),
    ).execute();
  },
};
