import type { CreateTableBuilder, Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { strictTable, type JitgateMigration } from './migration.js';

/** login_sessions, login_requests and authorization_codes (see ../schema.ts and src/login/). */
export const login: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    const strict = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => strictTable(dialect, t);

    await strict(
      db.schema
        .createTable('login_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('amr', 'text', (c) => c.notNull())
        .addColumn('acr', 'text')
        .addColumn('auth_time', instant, (c) => c.notNull())
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('last_seen_at', instant, (c) => c.notNull())
        .addColumn('expires_at', instant, (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('login_sessions_expires_idx').on('login_sessions').column('expires_at').execute();

    await strict(
      db.schema
        .createTable('login_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('require_mfa', 'integer', (c) => c.notNull())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('upstream_state_hash', 'text', (c) => c.unique())
        .addColumn('upstream_nonce', 'text')
        .addColumn('upstream_verifier', 'text')
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('expires_at', instant, (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('login_requests_expires_idx').on('login_requests').column('expires_at').execute();

    await strict(
      db.schema
        .createTable('authorization_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('scope', 'text')
        .addColumn('resource', 'text')
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('amr', 'text', (c) => c.notNull())
        .addColumn('acr', 'text')
        .addColumn('auth_time', instant, (c) => c.notNull())
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('expires_at', instant, (c) => c.notNull())
        .addColumn('used_at', instant)
        .addColumn('replayed_at', instant)
        .addColumn('issued', 'text'),
    ).execute();
    await db.schema.createIndex('authorization_codes_expires_idx').on('authorization_codes').column('expires_at').execute();
  },
};
