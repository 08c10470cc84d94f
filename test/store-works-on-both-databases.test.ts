import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { forEachDatabase, locate } from './helpers/databases.js';
import { migrateToLatest, MigrationError } from '../src/store/migrate.js';
import { migrations } from '../src/store/migrations/index.js';
import { WriteBatcher } from '../src/store/write-batcher.js';
import { pruneExpired } from '../src/store/prune.js';
import { JitgateError } from '../src/util/errors.js';
import type { Database, TokenTable } from '../src/store/schema.js';
import type { Store } from '../src/store/open.js';

const NOW = 1_900_000_000;
/** Past 2^31: proves instants are 64-bit on PostgreSQL and come back as numbers. */
const FAR = 4_102_444_800;
const DAY = 86_400;
/** Every migration jitgate ships, in the order they apply: the list grows without this file changing. */
const SHIPPED = Object.keys(migrations).sort();

function token(jti: string, over: Partial<TokenTable> = {}): TokenTable {
  return {
    jti,
    token_hash: `hash-${jti}`,
    sub: 'user:alice',
    client_id: 'jitgate-cli',
    aud: 'https://deploy.internal',
    scope: 'read:logs',
    grant_id: null,
    kid: 'k1',
    iat: NOW,
    exp: NOW + 900,
    auth_time: null,
    acr: null,
    amr: null,
    revoked_at: null,
    revoked_reason: null,
    ...over,
  };
}

/** Whether the table exists where the store's unqualified names resolve (its schema, on PostgreSQL). */
async function tableExists(store: Store, name: string): Promise<boolean> {
  const query =
    store.dialect === 'postgres'
      ? sql`select 1 from information_schema.tables where table_schema = current_schema() and table_name = ${name}`
      : sql`select 1 from sqlite_master where type = 'table' and name = ${name}`;
  return (await query.execute(store.db)).rows.length > 0;
}

async function appliedNames(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((r) => r.name);
}

interface MigratingChild {
  /** Resolves once the child has opened the store and waits for the go. */
  ready: Promise<void>;
  go(): void;
  done: Promise<{ applied: string[] }>;
}

function startMigratingChild(url: string, schema: string): MigratingChild {
  const script = fileURLToPath(new URL('./helpers/migrate-in-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, schema], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d));
  const done = new Promise<{ applied: string[] }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)) as { applied: string[] });
      else reject(new Error(`migrating child exited ${code}: ${err}`));
    });
  });
  // A child that dies before "ready" must fail the test, not hang it.
  return { ready: Promise.race([ready, done.then(() => {})]), go: () => child.stdin.write('go\n'), done };
}

forEachDatabase('the store', (open, dialect) => {
  test('migrations apply once; applying again is a no-op', async () => {
    const store = await open({ migrate: false });
    assert.equal(await tableExists(store, 'tokens'), false);
    assert.deepEqual(await migrateToLatest(store), { applied: SHIPPED });
    assert.deepEqual(await migrateToLatest(store), { applied: [] });
    for (const t of ['signing_keys', 'tokens', 'client_assertions', 'meta']) {
      assert.equal(await tableExists(store, t), true, t);
    }
    // Opening again with the default (migrate at open) finds nothing to do.
    const again = await open({ sameDatabaseAs: store });
    assert.deepEqual(await appliedNames(again.db), SHIPPED);
  });

  test('processes migrating the same database at once apply each migration exactly once', async () => {
    const store = await open({ migrate: false });
    const { url, pgSchema } = locate(store);
    const children = [1, 2, 3].map(() => startMigratingChild(url, pgSchema ?? ''));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.done));
    const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length);
    // Every shipped migration, by one child only: the others waited on the lock, then found them done.
    assert.deepEqual(applied, [SHIPPED, [], []]);
    assert.deepEqual(await appliedNames(store.db), SHIPPED);
  });

  test('a failing migration is named in migration_failed and leaves nothing half-applied', async () => {
    const store = await open({ migrate: false });
    const broken = {
      ...migrations,
      '0002_broken': {
        async up(db: Kysely<unknown>) {
          await db.schema.createTable('half_done').addColumn('id', 'text').execute();
          await sql`select * from no_such_table`.execute(db);
        },
      },
    };
    await assert.rejects(migrateToLatest(store, broken), (err: unknown) => {
      assert.ok(err instanceof MigrationError && err instanceof JitgateError);
      assert.equal(err.code, 'migration_failed');
      assert.equal(err.migration, '0002_broken');
      assert.match(err.message, /0002_broken/);
      return true;
    });
    // One transaction: 0001_core, applied in the same run, is rolled back too.
    assert.equal(await tableExists(store, 'half_done'), false);
    assert.equal(await tableExists(store, 'tokens'), false);
    assert.deepEqual(await migrateToLatest(store), { applied: SHIPPED });
  });

  test('tokens round-trip with instants as numbers and nulls kept', async () => {
    const { db } = await open();
    const elevated = token('t-elevated', {
      grant_id: 'g-1',
      exp: FAR,
      auth_time: NOW - 60,
      acr: 'urn:jitgate:mfa',
      amr: JSON.stringify(['pwd', 'otp']),
      revoked_at: FAR - 1,
      revoked_reason: 'released',
    });
    const baseline = token('t-baseline');
    await db.insertInto('tokens').values([elevated, baseline]).execute();
    const rows = await db.selectFrom('tokens').selectAll().orderBy('jti').execute();
    assert.deepEqual(rows, [baseline, elevated]);
    const back = rows[1]!;
    assert.equal(typeof back.exp, 'number');
    assert.equal(typeof back.revoked_at, 'number');
    assert.deepEqual(JSON.parse(back.amr!), ['pwd', 'otp']);
    assert.equal(rows[0]!.grant_id, null);
    assert.equal(rows[0]!.auth_time, null);

    const byGrant = await db.selectFrom('tokens').select('jti').where('grant_id', '=', 'g-1').execute();
    assert.deepEqual(byGrant, [{ jti: 't-elevated' }]);
    await assert.rejects(db.insertInto('tokens').values(token('t-baseline')).execute(), 'jti is the primary key');
  });

  test('signing_keys, client_assertions and meta round-trip', async () => {
    const { db } = await open();
    const key = {
      kid: 'k1',
      alg: 'ES256',
      public_jwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }),
      private_enc: 'c2VhbGVk',
      created_at: NOW,
      signs_from: NOW + 60,
      superseded_at: null,
      publish_until: null,
    };
    await db.insertInto('signing_keys').values(key).execute();
    assert.deepEqual(await db.selectFrom('signing_keys').selectAll().execute(), [key]);
    await db.updateTable('signing_keys').set({ superseded_at: FAR, publish_until: FAR + 900 }).execute();
    const updated = await db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
    assert.equal(updated.superseded_at, FAR);
    assert.equal(updated.publish_until, FAR + 900);

    await db
      .insertInto('client_assertions')
      .values([
        { client_id: 'ci-pipeline', jti: 'a1', exp: FAR },
        { client_id: 'other', jti: 'a1', exp: NOW },
      ])
      .execute();
    // Replay protection: the same (client, jti) twice is refused.
    await assert.rejects(
      db.insertInto('client_assertions').values({ client_id: 'ci-pipeline', jti: 'a1', exp: FAR }).execute(),
    );
    const assertions = await db.selectFrom('client_assertions').selectAll().orderBy('client_id').execute();
    assert.deepEqual(assertions, [
      { client_id: 'ci-pipeline', jti: 'a1', exp: FAR },
      { client_id: 'other', jti: 'a1', exp: NOW },
    ]);

    const upsert = (value: string) =>
      db
        .insertInto('meta')
        .values({ key: 'policy_hash', value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
    await upsert('sha256:one');
    await upsert('sha256:two');
    assert.deepEqual(await db.selectFrom('meta').selectAll().execute(), [{ key: 'policy_hash', value: 'sha256:two' }]);
  });

  test('a principal\'s refresh tokens and login sessions are found through an index, not a scan', async () => {
    const store = await open();
    try {
      for (const table of ['refresh_tokens', 'login_sessions']) {
        const plan =
          store.dialect === 'postgres'
            ? // Planner costs on an empty table favour a scan; forbidding scans asks whether an index can serve at all.
              await store.db.transaction().execute(async (trx) => {
                await sql`set local enable_seqscan = off`.execute(trx);
                const { rows } = await sql<{ 'QUERY PLAN': string }>`explain select * from ${sql.table(table)} where principal = ${'user:alice'}`.execute(trx);
                return rows.map((r) => r['QUERY PLAN']).join('\n');
              })
            : (await sql<{ detail: string }>`explain query plan select * from ${sql.table(table)} where principal = ${'user:alice'}`.execute(store.db)).rows
                .map((r) => r.detail)
                .join('\n');
        assert.match(plan, new RegExp(`${table}_principal_idx`), `${table}: ${plan}`);
      }
    } finally {
      await store.close();
    }
  });

  test('a value of the wrong type is refused, not stored', async () => {
    const { db } = await open();
    await assert.rejects(
      db
        .insertInto('tokens')
        .values(token('t-bad', { exp: 'tomorrow' as unknown as number }))
        .execute(),
    );
    assert.equal((await db.selectFrom('tokens').select('jti').execute()).length, 0);
  });

  test('200 concurrent enqueues commit in few transactions and each resolves after its commit', async () => {
    const store = await open();
    const batcher = new WriteBatcher<string | null>(store);
    const txid = (trx: Kysely<Database>) =>
      dialect === 'postgres'
        ? sql<{ id: string }>`select txid_current()::text as id`.execute(trx).then((r) => r.rows[0]!.id)
        : Promise.resolve(null);
    const seenAfterResolve = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const jti = `t-${i}`;
        return batcher
          .enqueue(async (trx, row) => {
            await trx.insertInto('tokens').values(row).execute();
            return txid(trx);
          }, token(jti))
          .then(async (id) => {
            // Read outside the batch transaction: it has committed by now.
            const found = await store.db.selectFrom('tokens').select('jti').where('jti', '=', jti).executeTakeFirst();
            return { id, found: found !== undefined };
          });
      }),
    );
    assert.ok(seenAfterResolve.every((s) => s.found));
    const { batches, failedBatches, ops } = batcher.stats;
    assert.equal(ops, 200);
    assert.equal(failedBatches, 0);
    assert.ok(batches >= 1 && batches <= 2, `200 ops took ${batches} transactions`);
    if (dialect === 'postgres') {
      // Independent of the batcher's own count: distinct server transaction ids.
      assert.equal(new Set(seenAfterResolve.map((s) => s.id)).size, batches);
    }
    const { n } = await store.db
      .selectFrom('tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(n), 200);
    await batcher.close();
  });

  test('a failing op rejects only its own caller', async () => {
    const store = await open();
    await store.db.insertInto('tokens').values(token('taken')).execute();
    const batcher = new WriteBatcher(store);
    const boom = new JitgateError('boom', 'this op fails');
    const calls = Array.from({ length: 10 }, (_, i) => {
      if (i === 3) return batcher.enqueue(() => Promise.reject(boom));
      // A database error aborts the whole transaction on PostgreSQL.
      if (i === 6) return batcher.enqueue((trx) => trx.insertInto('tokens').values(token('taken')).execute());
      return batcher.enqueue((trx) => trx.insertInto('tokens').values(token(`ok-${i}`)).execute());
    });
    const settled = await Promise.allSettled(calls);
    settled.forEach((s, i) => {
      if (i === 3) assert.deepEqual(s, { status: 'rejected', reason: boom });
      else if (i === 6) assert.equal(s.status, 'rejected', 'duplicate jti');
      else assert.equal(s.status, 'fulfilled', `op ${i}`);
    });
    assert.equal(batcher.stats.failedBatches, 1);
    const jtis = (await store.db.selectFrom('tokens').select('jti').orderBy('jti').execute()).map((r) => r.jti);
    assert.deepEqual(jtis, ['ok-0', 'ok-1', 'ok-2', 'ok-4', 'ok-5', 'ok-7', 'ok-8', 'ok-9', 'taken']);
    await batcher.close();
  });

  test('batches are cut at maxBatch and close() flushes what is queued', async () => {
    const store = await open();
    const batcher = new WriteBatcher(store, { maxBatch: 10 });
    let resolved = 0;
    for (let i = 0; i < 35; i++) {
      void batcher
        .enqueue((trx) => trx.insertInto('meta').values({ key: `k${i}`, value: 'v' }).execute())
        .then(() => resolved++);
    }
    await batcher.close();
    // Every accepted op has resolved by the time close() does.
    assert.equal(resolved, 35);
    assert.equal(batcher.stats.batches, 4);
    assert.equal((await store.db.selectFrom('meta').select('key').execute()).length, 35);
    await assert.rejects(
      batcher.enqueue(() => Promise.resolve(null)),
      (err: unknown) => err instanceof JitgateError && err.code === 'batcher_closed',
    );
  });

  test('pruning removes only rows expired for longer than the grace period', async () => {
    const store = await open();
    const { db } = store;
    await db
      .insertInto('tokens')
      .values([
        token('old', { exp: NOW - 2 * DAY }),
        token('just-past-grace', { exp: NOW - DAY - 1 }),
        token('at-grace', { exp: NOW - DAY }),
        token('recently-expired', { exp: NOW - 10 }),
        token('live', { exp: NOW + 900 }),
      ])
      .execute();
    await db
      .insertInto('client_assertions')
      .values([
        { client_id: 'c', jti: 'old', exp: NOW - 3 * DAY },
        { client_id: 'c', jti: 'live', exp: NOW + 60 },
      ])
      .execute();
    assert.deepEqual(await pruneExpired(store, NOW), { tokens: 2, clientAssertions: 1 });
    const left = (await db.selectFrom('tokens').select('jti').orderBy('exp').execute()).map((r) => r.jti);
    assert.deepEqual(left, ['at-grace', 'recently-expired', 'live']);
    assert.deepEqual(await db.selectFrom('client_assertions').select('jti').execute(), [{ jti: 'live' }]);
    assert.deepEqual(await pruneExpired(store, NOW), { tokens: 0, clientAssertions: 0 });
  });

  test('pruning in small chunks still removes every expired row', async () => {
    const store = await open();
    await store.db
      .insertInto('tokens')
      .values(Array.from({ length: 7 }, (_, i) => token(`x${i}`, { exp: NOW - 10 })))
      .execute();
    await store.db
      .insertInto('client_assertions')
      .values(Array.from({ length: 5 }, (_, i) => ({ client_id: `c${i % 2}`, jti: `j${i}`, exp: NOW - 10 })))
      .execute();
    assert.deepEqual(await pruneExpired(store, NOW, { graceS: 0, chunk: 2 }), { tokens: 7, clientAssertions: 5 });
  });

  if (dialect === 'sqlite') {
    test('SQLite runs in WAL mode with NORMAL sync, a busy timeout and foreign keys on', async () => {
      const { db } = await open();
      const pragma = async (name: string) =>
        Object.values((await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(db)).rows[0]!)[0];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('synchronous'), 1);
      assert.equal(await pragma('foreign_keys'), 1);
      assert.ok(Number(await pragma('busy_timeout')) >= 1000);
    });
  }

  if (dialect === 'postgres') {
    test('PostgreSQL stores instants as bigint in the store’s own schema', async () => {
      const store = await open();
      const { pgSchema } = locate(store);
      const { rows } = await sql<{ table_schema: string; data_type: string }>`
        select table_schema, data_type from information_schema.columns
        where table_name = 'tokens' and column_name = 'exp'`.execute(store.db);
      assert.deepEqual(
        rows.filter((r) => r.table_schema === pgSchema),
        [{ table_schema: pgSchema, data_type: 'bigint' }],
      );
    });
  }
});
