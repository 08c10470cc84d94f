import type { CreateTableBuilder, Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { strictTable, type JitgateMigration } from './migration.js';

/** signing_keys, tokens, client_assertions and meta (see ../schema.ts). */
export const core: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    // Epoch seconds overflow int4 in 2038.
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    // STRICT makes SQLite reject a value of the wrong type (a string or a
    // fractional instant) the way PostgreSQL does. WITHOUT ROWID suits small
    // rows looked up only by their key: they live in the key's b-tree
    // instead of a rowid table plus an index.
    const strict = <T extends string, C extends string>(t: CreateTableBuilder<T, C>, withoutRowid = false) =>
      strictTable(dialect, t, withoutRowid);

    await strict(
      db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('signs_from', instant, (c) => c.notNull())
        .addColumn('superseded_at', instant)
        .addColumn('publish_until', instant),
    ).execute();

    await strict(
      db.schema
        .createTable('tokens')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('aud', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('iat', instant, (c) => c.notNull())
        .addColumn('exp', instant, (c) => c.notNull())
        .addColumn('auth_time', instant)
        .addColumn('acr', 'text')
        .addColumn('amr', 'text')
        .addColumn('revoked_at', instant)
        .addColumn('revoked_reason', 'text'),
    ).execute();
    // Revoking everything of a principal.
    await db.schema.createIndex('tokens_sub_idx').on('tokens').column('sub').execute();
    // Revoking a grant's tokens. Most tokens are baseline (no grant): a
    // partial index leaves them out; `grant_id = ?` implies the predicate.
    await db.schema
      .createIndex('tokens_grant_id_idx')
      .on('tokens')
      .column('grant_id')
      .where('grant_id', 'is not', null)
      .execute();
    // Pruning.
    await db.schema.createIndex('tokens_exp_idx').on('tokens').column('exp').execute();

    await strict(
      db.schema
        .createTable('client_assertions')
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('exp', instant, (c) => c.notNull())
        .addPrimaryKeyConstraint('client_assertions_pk', ['client_id', 'jti']),
      true,
    ).execute();
    await db.schema.createIndex('client_assertions_exp_idx').on('client_assertions').column('exp').execute();

    await strict(
      db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull()),
    ).execute();
  },
};
