/**
 * Kysely dialect for better-sqlite3, replacing kysely's own SqliteDialect for
 * three reasons:
 *
 * - Write transactions start with `BEGIN IMMEDIATE`. A deferred `BEGIN` that
 *   reads and then writes fails at once with SQLITE_BUSY when another process
 *   (a CLI verb next to the server) wrote in between; `busy_timeout` never
 *   applies to that upgrade. IMMEDIATE takes the write lock up front, so it
 *   waits for `busy_timeout` instead. Within one process all queries share one
 *   connection anyway, so this costs nothing there.
 * - Migrations run in one transaction (SQLite has transactional DDL; kysely's
 *   adapter does not claim it). With IMMEDIATE that transaction is also the
 *   migration lock between processes: the second process waits, then finds
 *   the migrations recorded.
 * - Prepared statements are cached by SQL text: kysely's driver prepares
 *   every statement on every execution. Measured on single-row token
 *   inserts, the cache gave 1.5–2.5× the insert rate.
 * - Every statement that may change existing rows moves the database's
 *   {@link RowVersion}, which the token and grant lookups' caches rest on.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { mayChangeRows, type RowVersion } from './row-version.js';

const STATEMENT_CACHE_SIZE = 256;

interface CachedStatement {
  stmt: BetterSqlite3.Statement;
  /** Whether running it moves the row version. */
  changesRows: boolean;
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class CachingSqliteConnection implements DatabaseConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #version: RowVersion | undefined;
  readonly #cache = new Map<string, CachedStatement>();

  constructor(db: BetterSqlite3.Database, version: RowVersion | undefined) {
    this.#db = db;
    this.#version = version;
  }

  #prepare(sql: string): CachedStatement {
    let cached = this.#cache.get(sql);
    if (cached === undefined) {
      cached = { stmt: this.#db.prepare(sql), changesRows: mayChangeRows(sql) };
      if (this.#cache.size >= STATEMENT_CACHE_SIZE) {
        // Evict the oldest entry: statements built per request with a
        // varying number of parameters must not grow the cache without bound.
        const oldest = this.#cache.keys().next();
        if (oldest.done !== true) this.#cache.delete(oldest.value);
      }
      this.#cache.set(sql, cached);
    }
    return cached;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { stmt, changesRows } = this.#prepare(compiledQuery.sql);
    if (changesRows) this.#version?.bump();
    const parameters = compiledQuery.parameters as unknown[];
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(parameters) as R[] });
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    });
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Not cached: an iterating statement cannot run again until it is done.
    const stmt = this.#db.prepare(compiledQuery.sql);
    if (mayChangeRows(compiledQuery.sql)) this.#version?.bump();
    for (const row of stmt.iterate(compiledQuery.parameters as unknown[])) {
      yield { rows: [row as R] };
    }
  }
}

/** One connection per process, handed out under a FIFO mutex. */
class SqliteDriver implements Driver {
  readonly #db: BetterSqlite3.Database;
  readonly #connection: CachingSqliteConnection;
  #locked = false;
  readonly #waiters: Array<() => void> = [];

  constructor(db: BetterSqlite3.Database, version: RowVersion | undefined) {
    this.#db = db;
    this.#connection = new CachingSqliteConnection(db, version);
  }

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(this.#connection);
    }
    return new Promise((resolve) => {
      this.#waiters.push(() => resolve(this.#connection));
    });
  }

  async releaseConnection(): Promise<void> {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const begin = settings.accessMode === 'read only' ? 'begin' : 'begin immediate';
    await connection.executeQuery(CompiledQuery.raw(begin));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteIdent(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteIdent(name)}`));
  }

  async destroy(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Kysely dialect over an already opened and configured better-sqlite3 handle. */
export class JitgateSqliteDialect implements Dialect {
  readonly #db: BetterSqlite3.Database;
  readonly #version: RowVersion | undefined;

  /** `version`, when given, is moved by every statement that may change existing rows. */
  constructor(db: BetterSqlite3.Database, version?: RowVersion) {
    this.#db = db;
    this.#version = version;
  }

  createDriver(): Driver {
    return new SqliteDriver(this.#db, this.#version);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
