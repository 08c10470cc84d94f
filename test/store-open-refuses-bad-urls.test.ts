import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { parseDbUrl, redactDbUrl } from '../src/store/db-url.js';
import { JitgateError } from '../src/util/errors.js';

const code = (expected: string) => (err: unknown) => {
  assert.ok(err instanceof JitgateError, String(err));
  assert.equal(err.code, expected);
  return true;
};

test('URLs of other databases, or naming no file, are refused', () => {
  assert.throws(() => parseDbUrl('mysql://root@localhost/jitgate'), code('db_url_invalid'));
  assert.throws(() => parseDbUrl('sqlite:'), code('db_url_invalid'));
  assert.deepEqual(parseDbUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseDbUrl('sqlite:/var/lib/jitgate/j.db'), { dialect: 'sqlite', path: '/var/lib/jitgate/j.db' });
  assert.deepEqual(parseDbUrl('sqlite:data/j.db'), { dialect: 'sqlite', path: join(process.cwd(), 'data/j.db') });
  assert.equal(parseDbUrl('postgresql://db/jitgate').dialect, 'postgres');
});

test('passwords never reach the display URL', () => {
  const shown = redactDbUrl('postgres://jitgate:s3cr%40t@db.internal:5432/jitgate?password=other&sslmode=require');
  assert.doesNotMatch(shown, /s3cr|other/);
  assert.equal(shown, 'postgres://jitgate:***@db.internal:5432/jitgate?password=***&sslmode=require');
  assert.equal(redactDbUrl('sqlite:/var/lib/jitgate/j.db'), 'sqlite:/var/lib/jitgate/j.db');
});

test('an unreachable PostgreSQL fails with db_unreachable, without the password', async () => {
  await assert.rejects(openStore('postgres://jitgate:hunter2@127.0.0.1:1/jitgate'), (err: unknown) => {
    code('db_unreachable')(err);
    assert.match((err as Error).message, /ECONNREFUSED/);
    assert.doesNotMatch((err as Error).message, /hunter2/);
    return true;
  });
});

test('a schema name that is not a plain identifier is refused before connecting', async () => {
  await assert.rejects(
    openStore('postgres://postgres@127.0.0.1:1/test', { pgSchema: 'x"; drop schema public' }),
    code('pg_schema_invalid'),
  );
});

test('an SQLite file that cannot be created fails with db_open_failed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-open-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a-file'), '');
  await assert.rejects(openStore(`sqlite:${join(dir, 'a-file', 'j.db')}`), code('db_open_failed'));
});

test('a new SQLite database is private: directory 0700, file 0600', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-open-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nested', 'data', 'jitgate.db');
  const store = await openStore(`sqlite:${path}`);
  await store.close();
  assert.equal(statSync(join(dir, 'nested', 'data')).mode & 0o777, 0o700);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('sqlite::memory: opens a migrated database', async () => {
  const store = await openStore('sqlite::memory:');
  await store.db.insertInto('meta').values({ key: 'k', value: 'v' }).execute();
  assert.deepEqual(await store.db.selectFrom('meta').selectAll().execute(), [{ key: 'k', value: 'v' }]);
  await store.close();
  await store.close(); // idempotent
});
