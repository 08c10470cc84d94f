import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely } from 'kysely';
import { JitgateError } from '../util/errors.js';
import type { Database } from './schema.js';
import { JitgateSqliteDialect } from './sqlite-dialect.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES } from './sqlite-checkpointer.js';
import { RowVersion, registerRowVersion } from './row-version.js';

/** How long a statement waits for another process's write lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** SQLite durability: see docs/storage.md. */
export type SqliteSynchronous = 'normal' | 'full';

/**
 * Opens (creating if missing) an SQLite database for jitgate.
 *
 * - `journal_mode = WAL`: readers never block the writer and the writer never
 *   blocks readers; a commit appends to the WAL instead of rewriting pages.
 * - `synchronous = NORMAL` (default): in WAL mode a commit is not fsynced; the
 *   WAL is synced only when it is checkpointed. Every committed transaction
 *   survives a crash of the process (the data is in the OS page cache). After
 *   an OS crash or power loss the database is still consistent, but the
 *   transactions committed since the last checkpoint may be rolled back (the
 *   surviving ones are always a prefix, in commit order). `full` syncs the
 *   WAL at every commit and keeps them too, at the cost of one fsync per
 *   transaction.
 * - `busy_timeout`: other processes (CLI verbs) wait for the lock instead of
 *   failing at once.
 * - `foreign_keys = ON`: SQLite leaves them off by default, per connection.
 *
 * The parent directory is created with mode 0700 and a new file with mode
 * 0600: the database holds sealed signing keys and token hashes.
 */
export function openSqliteDb(
  path: string,
  opts: { synchronous?: SqliteSynchronous } = {},
): Kysely<Database> {
  let handle: SQLite.Database;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      createPrivateFile(path);
    }
    handle = new SQLite(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new JitgateError('db_open_failed', `cannot open SQLite database ${path}: ${describe(err)}`, {
      cause: err,
    });
  }
  try {
    handle.pragma('journal_mode = WAL');
    handle.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    handle.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    handle.pragma('foreign_keys = ON');
    // Checkpoints run in a worker (sqlite-checkpointer.ts); this is only the fallback.
    if (path !== ':memory:') handle.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  } catch (err) {
    handle.close();
    throw new JitgateError('db_open_failed', `cannot configure SQLite database ${path}: ${describe(err)}`, {
      cause: err,
    });
  }
  const dataVersion = handle.prepare('pragma data_version').pluck();
  const version = new RowVersion(() => dataVersion.get());
  const db = new Kysely<Database>({ dialect: new JitgateSqliteDialect(handle, version) });
  registerRowVersion(db, version);
  return db;
}

function createPrivateFile(path: string): void {
  try {
    // An empty file is a valid empty SQLite database; creating it ourselves
    // is the only way to choose its mode (the -wal and -shm files copy it).
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
