import type { CreateTableBuilder, Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { strictTable, type JitgateMigration } from './migration.js';

/** refresh_tokens and device_authorizations (see ../schema.ts, src/oauth/refresh-tokens.ts, src/oauth/device-codes.ts). */
export const refreshDevice: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    const strict = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => strictTable(dialect, t);

    await strict(
      db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('resource', 'text')
        .addColumn('access_jti', 'text')
        .addColumn('acr', 'text')
        .addColumn('amr', 'text')
        .addColumn('auth_time', instant)
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('family_expires_at', instant, (c) => c.notNull())
        .addColumn('expires_at', instant, (c) => c.notNull())
        .addColumn('used_at', instant)
        .addColumn('replaced_by', 'text')
        .addColumn('revoked_at', instant)
        .addColumn('revoked_reason', 'text'),
    ).execute();
    // Revoking a family (reuse, logout) touches every token of it.
    await db.schema.createIndex('refresh_tokens_family_idx').on('refresh_tokens').column('family_id').execute();
    // Pruning.
    await db.schema.createIndex('refresh_tokens_family_exp_idx').on('refresh_tokens').column('family_expires_at').execute();

    await strict(
      db.schema
        .createTable('device_authorizations')
        .addColumn('device_code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_code', 'text', (c) => c.notNull().unique())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('resource', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('principal', 'text')
        .addColumn('acr', 'text')
        .addColumn('amr', 'text')
        .addColumn('auth_time', instant)
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('expires_at', instant, (c) => c.notNull())
        .addColumn('interval_s', 'integer', (c) => c.notNull())
        .addColumn('last_polled_at_ms', instant),
    ).execute();
    await db.schema.createIndex('device_authorizations_exp_idx').on('device_authorizations').column('expires_at').execute();
  },
};
