import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { appendOnlyTriggers, strictTable, type JitgateMigration } from './migration.js';

/** access_requests, grants, and the append-only audit_events chain with its head. */
export const access: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    const strict = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => strictTable(dialect, t);

    await strict(
      db.schema
        .createTable('access_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('requester', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('bundle', 'text')
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('duration_s', instant, (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('ticket', 'text')
        .addColumn('starts_at', instant)
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('expires_at', instant, (c) => c.notNull())
        .addColumn('updated_at', instant, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('access_requests_status_idx').on('access_requests').columns(['status', 'created_at']).execute();
    await db.schema.createIndex('access_requests_requester_idx').on('access_requests').columns(['requester', 'created_at']).execute();

    await strict(
      db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull().unique())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('starts_at', instant, (c) => c.notNull())
        .addColumn('ends_at', instant, (c) => c.notNull())
        .addColumn('revoked_at', instant)
        .addColumn('revoked_by', 'text')
        .addColumn('revoke_reason', 'text')
        .addColumn('released_at', instant)
        .addColumn('break_glass', 'integer', (c) => c.notNull())
        .addColumn('review', 'text', (c) => c.notNull())
        .addColumn('reviewed_by', 'text')
        .addColumn('reviewed_at', instant)
        .addColumn('review_note', 'text')
        .addColumn('created_at', instant, (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('grants_principal_idx').on('grants').columns(['principal', 'ends_at']).execute();
    await db.schema.createIndex('grants_ends_at_idx').on('grants').column('ends_at').execute();

    // seq is assigned from audit_head inside the writing transaction, so the
    // chain has no gaps and one order, whatever the database's sequences do.
    await strict(
      db.schema
        .createTable('audit_events')
        .addColumn('seq', instant, (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('subject', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('audit_events_type_idx').on('audit_events').columns(['type', 'seq']).execute();
    await db.schema.createIndex('audit_events_subject_idx').on('audit_events').columns(['subject', 'seq']).execute();

    await strict(
      db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', instant, (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull()),
    ).execute();
    await sql`insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);

    // The database itself refuses to rewrite history.
    await appendOnlyTriggers(db, dialect, 'audit_events', 'jitgate_audit_append_only', 'audit events are append-only');
  },
};

/** prev_hash of the first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);
