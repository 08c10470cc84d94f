import type { Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { strictTable, type JitgateMigration } from './migration.js';

/**
 * `usage`: how often each principal used each scope at each resource, as
 * reported by gateways (see ../schema.ts UsageTable and src/usage/). One row
 * per (principal, scope, resource), not per day: access reviews ask "when was
 * this last used", which the row answers directly, and the table stays as
 * small as the set of scopes actually in use.
 */
export const usage: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    await strictTable(
      dialect,
      db.schema
        .createTable('usage')
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('uses', instant, (c) => c.notNull())
        .addColumn('first_used', instant, (c) => c.notNull())
        .addColumn('last_used', instant, (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_pk', ['principal', 'scope', 'resource']),
    ).execute();
    // GET /usage?scope= and the unused report's per-scope reading; principal is the key's prefix.
    await db.schema.createIndex('usage_scope_idx').on('usage').columns(['scope', 'last_used']).execute();
  },
};
