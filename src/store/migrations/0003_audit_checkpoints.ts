import { sql, type Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import type { JitgateMigration } from './migration.js';

/**
 * audit_checkpoints: signed statements "the chain's event `seq` has hash
 * `hash`" (see src/audit/checkpoint-token.ts). Append-only like the events.
 */
export const auditCheckpoints: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    let table = db.schema
      .createTable('audit_checkpoints')
      .addColumn('seq', instant, (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull())
      // RFC 3339 UTC with milliseconds, like an event's `at`.
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('kid', 'text', (c) => c.notNull())
      // The compact JWS; seq, hash and at above repeat its payload for queries.
      .addColumn('jws', 'text', (c) => c.notNull());
    if (dialect === 'sqlite') table = table.modifyEnd(sql`strict`);
    await table.execute();

    if (dialect === 'sqlite') {
      await sql`create trigger audit_checkpoints_no_update before update on audit_checkpoints
        begin select raise(abort, 'audit checkpoints are append-only'); end`.execute(db);
      await sql`create trigger audit_checkpoints_no_delete before delete on audit_checkpoints
        begin select raise(abort, 'audit checkpoints are append-only'); end`.execute(db);
    } else {
      await sql`create function jitgate_audit_checkpoints_append_only() returns trigger language plpgsql as $$
        begin raise exception 'audit checkpoints are append-only'; end $$`.execute(db);
      await sql`create trigger audit_checkpoints_append_only before update or delete on audit_checkpoints
        for each row execute function jitgate_audit_checkpoints_append_only()`.execute(db);
      await sql`create trigger audit_checkpoints_no_truncate before truncate on audit_checkpoints
        for each statement execute function jitgate_audit_checkpoints_append_only()`.execute(db);
    }
  },
};
