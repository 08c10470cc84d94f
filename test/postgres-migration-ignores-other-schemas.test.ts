// Several jitgate schemas (or other applications) share one PostgreSQL
// database. Dropping one of them must not fail a migration running in another:
// kysely's migrator introspects tables on every run, and its stock introspector
// looked at every schema of the database, failing with `schema "…" does not
// exist` when one vanished mid-query.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import { databases, locate, newSchemaName, TEST_PG_URL } from './helpers/databases.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { migrations } from '../src/store/migrations/index.js';
import type { Store } from '../src/store/open.js';

const postgres = databases.find((d) => d.dialect === 'postgres')!;
// Under CI an unreachable PostgreSQL fails these tests (the open throws) instead of skipping them.
const skip = postgres.unavailable !== null && !process.env.CI ? postgres.unavailable : false;

/** Creates and drops schemas holding a table, back to back, until stopped; resolves to the cycles done. */
function churnSchemas(): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  client.on('error', () => {});
  let running = true;
  let current: string | undefined;
  const loop = (async () => {
    await client.connect();
    let cycles = 0;
    try {
      while (running) {
        current = newSchemaName();
        await client.query(`create schema "${current}"; create table "${current}".t (id serial primary key, note text)`);
        await client.query(`drop schema "${current}" cascade`);
        current = undefined;
        cycles++;
      }
    } finally {
      if (current) await client.query(`drop schema if exists "${current}" cascade`).catch(() => {});
      await client.end().catch(() => {});
    }
    return cycles;
  })();
  return {
    stop: () => {
      running = false;
      return loop;
    },
  };
}

describe('PostgreSQL: other schemas of the database', { skip }, () => {
  const opened: Store[] = [];
  const open = async (opts?: Parameters<typeof postgres.open>[0]) => {
    const store = await postgres.open(opts);
    opened.push(store);
    return store;
  };
  after(async () => {
    for (const store of opened.reverse()) await store.close();
  });

  test('introspection lists only the store’s own schema', async () => {
    const mine = await open();
    const other = await open();
    await sql`create table only_in_other (id integer)`.execute(other.db);
    const tables = await mine.db.introspection.getTables({ withInternalKyselyTables: true });
    const names = tables.map((t) => t.name);
    assert.ok(names.includes('tokens') && names.includes('kysely_migration'), names.join(','));
    assert.ok(!names.includes('only_in_other'), names.join(','));
    assert.deepEqual([...new Set(tables.map((t) => t.schema))], [locate(mine).pgSchema]);
  });

  test('migrations succeed while other schemas are being dropped', async () => {
    const churn = churnSchemas();
    let cycles = 0;
    try {
      for (let i = 0; i < 8; i++) {
        const store = await open({ migrate: false });
        assert.deepEqual(await migrateToLatest(store), { applied: Object.keys(migrations).sort() });
        await store.close();
      }
    } finally {
      cycles = await churn.stop();
    }
    // The drops must really have overlapped the migrations for this to prove anything.
    assert.ok(cycles > 8, `only ${cycles} schemas were dropped meanwhile`);
  });
});
