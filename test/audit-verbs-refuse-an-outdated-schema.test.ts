import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { migrations } from '../src/store/migrations/index.js';
import { cliPerson } from './helpers/cli.js';

const auditor = cliPerson('auditor');
const dir = mkdtempSync(join(tmpdir(), 'jitgate-outdated-'));
after(() => {
  auditor.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('audit verbs name the missing migrations of an older database and how to apply them', async () => {
  const path = join(dir, 'old.db');
  const store = await openStore(`sqlite:${path}`, { migrate: false, checkpointer: false });
  // A database left by a version that shipped only the first two migrations.
  await migrateToLatest(store, { '0001_core': migrations['0001_core']!, '0002_access': migrations['0002_access']! });
  await store.close();

  for (const verb of [['audit', 'verify'], ['audit', 'export'], ['audit', 'report', '--scope', 'read:logs']]) {
    const r = await auditor.run([...verb, '--db', `sqlite:${path}`]);
    assert.equal(r.code, 1, `${verb.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /lacks migrations 0003_audit_checkpoints, .*run `jitgate migrate --db URL`/, verb.join(' '));
    assert.doesNotMatch(r.stderr, /no such table/);
  }
});

test('audit verify on a path with no database refuses without creating a file', async () => {
  const path = join(dir, 'typo.db');
  const r = await auditor.run(['audit', 'verify', '--db', `sqlite:${path}`]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /no database at .*typo\.db/);
  assert.equal(existsSync(path), false);
});
