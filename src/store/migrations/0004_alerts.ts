import type { CreateTableBuilder, Kysely } from 'kysely';
import type { StoreDialect } from '../open.js';
import { strictTable, type JitgateMigration } from './migration.js';

/** alerts and webhook_deliveries (see ../schema.ts and src/alerts/). */
export const alerts: JitgateMigration = {
  async up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
    const instant = dialect === 'postgres' ? 'bigint' : 'integer';
    const strict = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => strictTable(dialect, t);

    await strict(
      db.schema
        .createTable('alerts')
        .addColumn('seq', instant, (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('principal', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('event_seq', instant, (c) => c.notNull())
        .addColumn('created_at', instant, (c) => c.notNull()),
    ).execute();
    // GET /alerts?type= pages by seq within a type.
    await db.schema.createIndex('alerts_type_idx').on('alerts').columns(['type', 'seq']).execute();

    await strict(
      db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('alert_id', 'text')
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('secret_env', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('next_attempt_at', instant, (c) => c.notNull())
        .addColumn('created_at', instant, (c) => c.notNull())
        .addColumn('updated_at', instant, (c) => c.notNull())
        .addColumn('delivered_at', instant),
    ).execute();
    // The worker's question: what is pending and due.
    await db.schema
      .createIndex('webhook_deliveries_due_idx')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
  },
};
