import type { Kysely } from 'kysely';
import { parseDbUrl, redactDbUrl } from './db-url.js';
import { migrateToLatest } from './migrate.js';
import { openPostgresDb } from './postgres.js';
import type { Database } from './schema.js';
import { openSqliteDb, type SqliteSynchronous } from './sqlite.js';
import { startCheckpointer } from './sqlite-checkpointer.js';

export type StoreDialect = 'sqlite' | 'postgres';

/** An open database with jitgate's schema. */
export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  url: string;
  /** redacted URL for logs */
  display: string;
  close(): Promise<void>;
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** PostgreSQL only: keep the tables in this schema, created if missing. */
  pgSchema?: string;
  /** PostgreSQL only: connections in the pool (default 10). */
  poolSize?: number;
  /** PostgreSQL only: errors of idle pooled connections, which the pool replaces. */
  onError?: (err: Error) => void;
  /** SQLite only: run WAL checkpoints in a worker thread (default true; short-lived CLI verbs turn it off). */
  checkpointer?: boolean;
  /** SQLite only: errors of the checkpoint worker. */
  onCheckpointError?: (message: string) => void;
  /** SQLite only: `normal` (default) or `full`; see docs/storage.md. */
  sqliteSynchronous?: SqliteSynchronous;
}

/**
 * Opens `sqlite:PATH`, `sqlite::memory:` or a `postgres://` URL and, unless
 * `migrate: false`, brings its schema up to date.
 * Throws JitgateError `db_url_invalid`, `db_open_failed`, `db_unreachable`,
 * `pg_schema_invalid` or `migration_failed`.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const target = parseDbUrl(url);
  const display = redactDbUrl(url);
  const db =
    target.dialect === 'sqlite'
      ? openSqliteDb(target.path, { synchronous: opts.sqliteSynchronous })
      : await openPostgresDb(target.url, display, opts);
  const checkpointer =
    target.dialect === 'sqlite' && target.path !== ':memory:' && opts.checkpointer !== false
      ? startCheckpointer(target.path, { onError: opts.onCheckpointError })
      : null;
  let closed: Promise<void> | undefined;
  const store: Store = {
    db,
    dialect: target.dialect,
    url,
    display,
    close: () => (closed ??= (async () => {
      await checkpointer?.stop();
      await db.destroy();
    })()),
  };
  if (opts.migrate !== false) {
    try {
      await migrateToLatest(store);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
