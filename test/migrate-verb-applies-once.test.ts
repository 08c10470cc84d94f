import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { forEachDatabase, locate } from './helpers/databases.js';
import { migrations } from '../src/store/migrations/index.js';

const ALL = Object.keys(migrations);

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./helpers/run-migrate-verb.ts', import.meta.url));

async function migrateVerb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', SCRIPT, 'migrate', ...args], {
      env: { ...process.env, JITGATE_DB: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

forEachDatabase('jitgate migrate', (open) => {
  test('applies pending migrations, then reports the database is up to date', async () => {
    const store = await open({ migrate: false });
    const { url, pgSchema } = locate(store);
    // The verb has no schema flag: on PostgreSQL the schema comes from the URL's
    // libpq `options`, as an operator would write it.
    const dbUrl = pgSchema ? `${url}?options=${encodeURIComponent(`-c search_path=${pgSchema}`)}` : url;

    const first = await migrateVerb('--db', dbUrl);
    assert.equal(first.code, 0, first.stderr);
    for (const name of ALL) assert.match(first.stdout, new RegExp(`^applied ${name}$`, 'm'));
    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
    assert.deepEqual(rows.map((r) => r.name), ALL);

    const second = await migrateVerb('--db', dbUrl);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^database is up to date/);

    const json = await migrateVerb('--db', dbUrl, '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).applied, []);
  });
});

test('jitgate migrate exits non-zero and names the error when the database cannot be reached', async () => {
  const res = await migrateVerb('--db', 'postgres://jitgate:hunter2@127.0.0.1:1/jitgate');
  assert.equal(res.code, 1);
  assert.match(res.stderr, /\[db_unreachable\]/);
  assert.doesNotMatch(res.stderr, /hunter2/);
});
