import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDatabase } from './helpers/databases.js';
import { cliPerson } from './helpers/cli.js';
import { seedChain, dropAppendOnlyTriggers, childDbUrl, checkpointSeqs } from './helpers/audit.js';
import { canonicalJson } from '../src/audit/event-hash.js';

const auditor = cliPerson('auditor');
after(() => auditor.cleanup());

forEachDatabase('jitgate audit verbs', (open) => {
  test('verify exits 0 on a sound chain and 1 naming the seq of a tampered one', async () => {
    const store = await open();
    await seedChain(store, { events: 60, checkpointEvery: 10 });
    const db = childDbUrl(store);
    const ok = await auditor.run(['audit', 'verify', '--db', db, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout);
    assert.deepEqual([report.ok, report.events, report.problem], [true, 60, null]);

    await dropAppendOnlyTriggers(store);
    await store.db.updateTable('audit_events').set({ data: canonicalJson({ n: 37, scopes: ['admin:billing'] }) }).where('seq', '=', 37).execute();
    const bad = await auditor.run(['audit', 'verify', '--db', db]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /^audit chain BROKEN at seq 37 \(altered\): event 37 was altered/);
  });

  test('export, verify --file, report and prune from the command line', async () => {
    const store = await open();
    await seedChain(store, { events: 60, checkpointEvery: 10 });
    const db = childDbUrl(store);
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-audit-cli-'));
    try {
      const file = join(dir, 'all.jsonl');
      const exported = await auditor.run(['audit', 'export', '--db', db, '--out', file]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stderr, /exported 60 events \(seq 1\.\.60\) and \d+ checkpoints to /);
      const again = await auditor.run(['audit', 'export', '--db', db, '--out', file]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /exists already.*\[audit_export_exists\]/);
      assert.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length > 60, true, 'the first export is untouched');

      const verified = await auditor.run(['audit', 'verify', '--file', file]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^audit chain OK: 60 events, seq 1\.\.60/);

      const csv = await auditor.run(['audit', 'export', '--db', db, '--format', 'csv', '--since', '2026-11-24T09:00:05Z', '--quiet']);
      assert.equal(csv.code, 0, csv.stderr);
      const rows = csv.stdout.trimEnd().split('\n');
      assert.equal(rows[0], 'seq,id,at,type,actor,subject,data,prev_hash,hash');
      assert.ok(rows.length > 2 && rows.length < 61, `${rows.length} rows`);

      const report = await auditor.run(['audit', 'report', '--db', db, '--scope', 'deploy:prod', '--format', 'csv']);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /^principal,started_at,ended_at,held_s,end,/);

      const cut = (await checkpointSeqs(store)).filter((s) => s < 40).at(-1)!;
      const pruned = await auditor.run(['audit', 'prune', '--db', db, '--before', '40', '--export', join(dir, 'old.jsonl'), '--json']);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.deepEqual(JSON.parse(pruned.stdout).through_seq, cut);
      const after = await auditor.run(['audit', 'verify', '--db', db, '--json', '--quiet']);
      assert.equal(after.code, 0, after.stdout);
      assert.deepEqual([JSON.parse(after.stdout).first_seq, JSON.parse(after.stdout).anchor.seq], [cut + 1, cut]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
