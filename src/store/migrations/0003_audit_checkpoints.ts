import type { Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { appendOnlyTriggers, strictTable, type JitgateMigration } from './migration.js';

/**
 * audit_checkpoints: signed statements "the chain's event `seq` has hash
 * `hash`" (see src/audit/checkpoint-token.ts). Append-only like the events.
 */
export const auditCheckpoints: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    const table = db.schema
      .createTable('audit_checkpoints')
      .addColumn('seq', instant, (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull())
      // RFC 3339 UTC with milliseconds, like an event's `at`.
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('kid', 'text', (c) => c.notNull())
      // The compact JWS; seq, hash and at above repeat its payload for queries.
      .addColumn('jws', 'text', (c) => c.notNull());
    await strictTable(dialect, table).execute();

    await appendOnlyTriggers(
      db,
      dialect,
      'audit_checkpoints',
      'jitgate_audit_checkpoints_append_only',
      'audit checkpoints are append-only',
    );
  },
};
