/**
 * Runs a suite once per database jitgate supports, the way kysely's own
 * tests loop over dialects. Every store-touching test goes through here.
 *
 * - SQLite: a fresh file in its own temp directory per open (so WAL and the
 *   pragmas are exercised), removed on close.
 * - PostgreSQL: `JITGATE_TEST_PG` (default postgres://postgres@127.0.0.1:5432/test),
 *   a fresh schema per open, dropped on close; test files run in parallel
 *   without seeing each other's rows.
 *
 * PostgreSQL is probed once per process (5 s timeout). When it is not
 * reachable its cases are reported as skipped with the reason, except when
 * `CI` is set: then they fail, because CI must run them.
 */
import { describe, after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreDialect } from '../../src/store/open.js';
import { redactDbUrl } from '../../src/store/db-url.js';

export const TEST_PG_URL = process.env.JITGATE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Options of an open: `sameDatabaseAs` opens a second store on another store's database. */
export interface OpenOptions {
  migrate?: boolean;
  sameDatabaseAs?: Store;
}

export type OpenFn = (opts?: OpenOptions) => Promise<Store>;

export interface DatabaseCase {
  dialect: StoreDialect;
  /** Why this database cannot be used here, or null when it can. */
  unavailable: string | null;
  open: OpenFn;
}

/** Where each harness-made store lives, so siblings can share it and close can remove it. */
const homes = new WeakMap<Store, { sqliteUrl?: string; pgSchema?: string }>();

/** The URL and PostgreSQL schema of a store opened here, e.g. for a child process to open it too. */
export function locate(store: Store): { url: string; pgSchema?: string } {
  const home = homes.get(store);
  if (!home) throw new Error('store was not opened by the database harness');
  return home.pgSchema ? { url: TEST_PG_URL, pgSchema: home.pgSchema } : { url: home.sqliteUrl ?? store.url };
}

/**
 * A refused connection fails at once whatever the timeout; the timeout only
 * bounds a silent host. It is generous because the probe runs while the test
 * file's other imports load: on a loaded machine 1 s expired with PostgreSQL
 * up, and the file skipped its PostgreSQL cases without anyone noticing.
 */
const PROBE_TIMEOUT_MS = 5000;

async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
  });
  // A connection that dies after connect must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return `PostgreSQL not reachable at ${redactDbUrl(url)}: ${e.code ?? e.message ?? String(err)}`;
  } finally {
    await client.end().catch(() => {});
  }
}

const SCHEMA_PREFIX = 'jitgate_test_';
/** Schemas of runs that died before closing their stores; no test file runs this long. */
const STALE_AFTER_S = 3600;

/**
 * `jitgate_test_<creation second, base 36>_<random>`: the name says when it may
 * be swept. For tests that make schemas of their own on {@link TEST_PG_URL}.
 */
export function newSchemaName(): string {
  return `${SCHEMA_PREFIX}${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(5).toString('hex')}`;
}

async function sweepStaleSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ nspname: string }>(
      `select nspname from pg_namespace where nspname like '${SCHEMA_PREFIX}%'`,
    );
    const cutoff = Date.now() / 1000 - STALE_AFTER_S;
    for (const { nspname } of rows) {
      const born = Number.parseInt(nspname.slice(SCHEMA_PREFIX.length).split('_')[0] ?? '', 36);
      if (Number.isFinite(born) && born < cutoff) {
        await client.query(`drop schema if exists "${nspname}" cascade`).catch(() => {});
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
}

const pgUnavailable = await probePostgres(TEST_PG_URL);
if (pgUnavailable === null) await sweepStaleSchemas().catch(() => {});

async function openSqlite(opts: OpenOptions = {}): Promise<Store> {
  const shared = opts.sameDatabaseAs && homes.get(opts.sameDatabaseAs)?.sqliteUrl;
  if (shared) {
    const store = await openStore(shared, { migrate: opts.migrate });
    homes.set(store, { sqliteUrl: shared });
    return store;
  }
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-store-'));
  const url = `sqlite:${join(dir, 'jitgate.db')}`;
  let store: Store;
  try {
    store = await openStore(url, { migrate: opts.migrate });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const owned: Store = {
    ...store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  homes.set(owned, { sqliteUrl: url });
  return owned;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

async function openPostgres(opts: OpenOptions = {}): Promise<Store> {
  const shared = opts.sameDatabaseAs && homes.get(opts.sameDatabaseAs)?.pgSchema;
  if (shared) {
    const store = await openStore(TEST_PG_URL, { pgSchema: shared, migrate: opts.migrate, poolSize: 4 });
    homes.set(store, { pgSchema: shared });
    return store;
  }
  const schema = newSchemaName();
  let store: Store;
  try {
    store = await openStore(TEST_PG_URL, { pgSchema: schema, migrate: opts.migrate, poolSize: 4 });
  } catch (err) {
    await dropSchema(schema).catch(() => {});
    throw err;
  }
  let closing: Promise<void> | undefined;
  const owned: Store = {
    ...store,
    close: () =>
      (closing ??= (async () => {
        await store.close();
        await dropSchema(schema);
      })()),
  };
  homes.set(owned, { pgSchema: schema });
  return owned;
}

export const databases: DatabaseCase[] = [
  { dialect: 'sqlite', unavailable: null, open: openSqlite },
  { dialect: 'postgres', unavailable: pgUnavailable, open: openPostgres },
];

/**
 * Declares `title (sqlite)` and `title (postgres)` suites; `fn` registers the
 * tests (and hooks) with an `open` for that database. Stores a test leaves
 * open are closed after the suite.
 */
export function forEachDatabase(title: string, fn: (open: OpenFn, dialect: StoreDialect) => void): void {
  for (const db of databases) {
    const name = `${title} (${db.dialect})`;
    if (db.unavailable !== null) {
      if (process.env.CI) {
        describe(name, () => {
          test(`${db.dialect} is available (required when CI is set)`, () => {
            throw new Error(`${db.unavailable}; CI is set, so the ${db.dialect} cases must run`);
          });
        });
      } else {
        // A skipped test rather than a skipped suite: node:test counts it in
        // the run's "skipped" total, so the gap shows in the summary too.
        describe(name, () => {
          test(`${db.dialect} cases`, { skip: db.unavailable ?? true }, () => {});
        });
      }
      continue;
    }
    describe(name, () => {
      const opened: Store[] = [];
      const open: OpenFn = async (opts) => {
        const store = await db.open(opts);
        opened.push(store);
        return store;
      };
      after(async () => {
        // Siblings first: the first store of a database owns its removal.
        for (const store of opened.reverse()) await store.close();
      });
      fn(open, db.dialect);
    });
  }
}
