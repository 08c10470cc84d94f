import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { forEachDatabase } from './helpers/databases.js';
import { useElevationServer, fixturePolicy } from './helpers/elevation.js';
import { seedChain, dropAppendOnlyTriggers, checkpointSeqs, T0_MS } from './helpers/audit.js';
import { scopeReport } from '../src/audit/scope-report.js';
import { renderReport } from '../src/audit/report-format.js';
import { exportAudit } from '../src/audit/export.js';
import { pruneAudit } from '../src/audit/prune.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { verifyExportFile } from '../src/audit/verify-file.js';
import { JitgateError } from '../src/util/errors.js';

const DAY = 86_400;
const code = (c: string) => (err: unknown) => err instanceof JitgateError && err.code === c;

/** A Writable that keeps what it is given, slowly, like a disk behind a busy writer. */
class SlowSink extends Writable {
  chunks: string[] = [];
  /** The most bytes ever queued in it: a writer that ignores backpressure piles them up. */
  maxQueued = 0;
  constructor() {
    super({ highWaterMark: 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.maxQueued = Math.max(this.maxQueued, this.writableLength);
    this.chunks.push(chunk.toString('utf8'));
    setTimeout(done, 1);
  }
}

forEachDatabase('audit report', (open) => {
  const h = useElevationServer(open, { policyText: fixturePolicy('audit-policy.yaml') });

  test('who held a scope, when, for how long, approved by whom, with reason and ticket', async () => {
    for (const who of ['alice', 'bob', 'carol', 'dave']) await h.login(who);
    const approveAll = async (who: string, body: Record<string, unknown>) => {
      const filed = await h.api(who, 'POST', '/requests', { scopes: ['deploy:prod'], duration: '30m', ...body });
      assert.equal(filed.status, 201, JSON.stringify(filed.body));
      assert.equal((await h.api('carol', 'POST', `/requests/${filed.body.id}/approve`, { comment: 'looks right' })).status, 200);
      const done = await h.api('dave', 'POST', `/requests/${filed.body.id}/approve`, {});
      assert.equal(done.status, 200, JSON.stringify(done.body));
      return done.body;
    };
    const startS = h.nowS();
    const alice = await approveAll('alice', { reason: 'roll out the payment fix', ticket: 'OPS-11' });
    h.clock.advance(600);
    assert.equal((await h.api('alice', 'POST', `/grants/${alice.grant.id}/release`, {})).status, 200);

    // ID-token logins last minutes: everyone signs in again, as they would.
    for (const who of ['alice', 'bob', 'carol', 'dave']) await h.login(who);
    const bob = await approveAll('bob', { reason: 'restart the stuck deploy', ticket: 'INC-5' });
    h.clock.advance(300);
    const revoked = await h.api('dave', 'POST', `/grants/${bob.grant.id}/revoke`, { reason: 'done elsewhere' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));

    for (const who of ['alice', 'dave']) await h.login(who);
    await h.clientToken('ci-pipeline');
    const ci = await h.api('client:ci-pipeline', 'POST', '/requests', { scopes: ['deploy:prod'], duration: '20m', reason: 'pipeline deploy of main', ticket: 'OPS-99', context: { branch: 'main' } });
    assert.equal(ci.status, 201, JSON.stringify(ci.body));
    assert.equal(ci.body.status, 'approved');
    h.clock.advance(3600); // the pipeline's grant runs out
    await h.login('alice');

    const pendingRequest = await h.api('alice', 'POST', '/requests', { scopes: ['deploy:prod'], duration: '30m', reason: 'a second roll-out of the fix', ticket: 'OPS-12' });
    assert.equal(pendingRequest.status, 201, JSON.stringify(pendingRequest.body)); // pending: never held

    const holdings = await scopeReport(h.srv.ctx.store, { scope: 'deploy:prod', sinceS: h.nowS() - 90 * DAY, untilS: h.nowS(), nowS: h.nowS() });
    assert.deepEqual(
      holdings.map((x) => [x.principal, x.end, x.held_s, x.approval, x.approved_by, x.reason, x.ticket]),
      [
        ['user:alice', 'released', 600, 'approvers', ['user:carol', 'user:dave'], 'roll out the payment fix', 'OPS-11'],
        ['user:bob', 'revoked', 300, 'approvers', ['user:carol', 'user:dave'], 'restart the stuck deploy', 'INC-5'],
        ['client:ci-pipeline', 'expired', 1200, 'policy', [], 'pipeline deploy of main', 'OPS-99'],
      ],
    );
    assert.equal(holdings[0]!.started_at, new Date(startS * 1000).toISOString().replace('.000Z', 'Z'));
    assert.equal(holdings[1]!.revoked_by, 'user:dave');
    assert.equal(holdings[1]!.revoke_reason, 'done elsewhere');
    assert.equal(holdings[2]!.rule, 'ci deploys from main');

    // A window that closed before any of it: nothing. Another scope: nothing.
    assert.deepEqual(await scopeReport(h.srv.ctx.store, { scope: 'deploy:prod', sinceS: startS - 10 * DAY, untilS: startS - DAY, nowS: h.nowS() }), []);
    assert.deepEqual(await scopeReport(h.srv.ctx.store, { scope: 'read:billing', sinceS: 0, untilS: h.nowS(), nowS: h.nowS() }), []);

    const meta = { scope: 'deploy:prod', since: 'a', until: 'b' };
    const csv = renderReport(holdings, 'csv', meta).trimEnd().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[0]!, /^principal,started_at,ended_at,held_s,end,approval,approved_by,/);
    assert.match(csv[1]!, /^user:alice,.*,600,released,approvers,user:carol user:dave,"production needs a lead, then security",roll out the payment fix,OPS-11,/);
    const md = renderReport(holdings, 'markdown', meta);
    assert.match(md, /^## deploy:prod: 3 holdings from a to b\n\n\| principal \| from \|/);
    assert.match(md, /\| user:bob \| .* \| 5m \| revoked by user:dave: done elsewhere \| user:carol, user:dave \|/);
    const table = renderReport(holdings, 'table', meta);
    assert.match(table, /client:ci-pipeline .* 20m +expired +policy \(ci deploys from main\) +pipeline deploy of main/);
  });
});

forEachDatabase('audit export and retention', (open) => {
  test('an export streams with backpressure and verifies on its own; CSV and time windows', async () => {
    const store = await open();
    await seedChain(store, { events: 120, checkpointEvery: 10 });
    const sink = new SlowSink();
    const summary = await exportAudit(store, sink, { format: 'jsonl', nowMs: Date.now(), pageSize: 25, chunkBytes: 2048 });
    assert.equal(summary.events, 120);
    assert.ok(sink.chunks.length > 10, `${sink.chunks.length} writes`);
    // Waited for each write to drain: never more than one chunk queued.
    assert.ok(sink.maxQueued < 2 * 2048 + 1024, `${sink.maxQueued} bytes queued`);
    const lines = sink.chunks.join('').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].jitgate_audit_export.first_seq, 1);
    assert.equal(lines[0].jitgate_audit_export.keys.length, 1);
    assert.equal(lines[0].jitgate_audit_export.issuer, 'https://jit.test');
    assert.deepEqual(lines.at(-1), { end: { events: 120, last_seq: 120, last_hash: summary.last_hash } });
    assert.equal(lines.filter((l) => l.checkpoint).length, (await checkpointSeqs(store)).length);

    // Events a second apart from T0: a window picks a contiguous stretch.
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-audit-'));
    try {
      const path = join(dir, 'window.jsonl');
      const out = createWriteStream(path);
      const w = await exportAudit(store, out, { format: 'jsonl', nowMs: Date.now(), sinceMs: T0_MS + 10_000, untilMs: T0_MS + 20_000 });
      out.end();
      await finished(out);
      assert.ok(w.first_seq! > 1 && w.last_seq! < 120 && w.events === w.last_seq! - w.first_seq! + 1);
      const r = await verifyExportFile(path);
      assert.equal(r.ok, true, JSON.stringify(r.problem));
      assert.equal(r.first_seq, w.first_seq);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const csv = new SlowSink();
    await exportAudit(store, csv, { format: 'csv', nowMs: Date.now() });
    const rows = csv.chunks.join('').trimEnd().split('\n');
    assert.equal(rows[0], 'seq,id,at,type,actor,subject,data,prev_hash,hash');
    assert.equal(rows.length, 121);
    assert.match(rows[1]!, /^1,[0-9a-f-]{36},2026-11-24T09:00:00\.000Z,token\.issued,client:ci-pipeline,user:u1,"\{""n"":1,/);
  });

  test('prune exports, then removes up to a checkpoint; the rest verifies from it and the export on its own', async () => {
    const store = await open();
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-audit-'));
    try {
      await seedChain(store, { events: 100, checkpointEvery: 10 });
      const cps = await checkpointSeqs(store);
      const cut = cps.filter((s) => s < 55).at(-1)!;
      const path = join(dir, 'until-55.jsonl');
      const result = await pruneAudit(store, { beforeSeq: 55, exportPath: path, nowMs: T0_MS + 3_600_000 });
      assert.deepEqual([result.through_seq, result.events], [cut, cut]);
      assert.equal(result.export_sha256, createHash('sha256').update(readFileSync(path)).digest('hex'));
      assert.equal(existsSync(`${path}.partial`), false);

      const exported = await verifyExportFile(path);
      assert.deepEqual([exported.ok, exported.first_seq, exported.last_seq], [true, 1, cut]);
      const rest = await verifyStore(store);
      assert.equal(rest.ok, true, JSON.stringify(rest.problem));
      assert.deepEqual([rest.first_seq, rest.anchor?.seq], [cut + 1, cut]);
      const pruned = await store.db.selectFrom('audit_events').selectAll().where('type', '=', 'audit.pruned').execute();
      assert.equal(pruned.length, 1);
      assert.deepEqual(JSON.parse(pruned[0]!.data), { through_seq: cut, checkpoint_hash: exported.last_hash, events: cut, export_sha256: result.export_sha256, export_file: 'until-55.jsonl' });
      // The trigger is back.
      await assert.rejects(store.db.deleteFrom('audit_events').where('seq', '=', cut + 1).execute(), /append-only/);

      // An export never overwrites, and a second prune cuts further.
      await assert.rejects(pruneAudit(store, { beforeSeq: 90, exportPath: path, nowMs: T0_MS }), code('audit_export_exists'));
      const second = await pruneAudit(store, { beforeSeq: 90, exportPath: join(dir, 'until-90.jsonl'), nowMs: T0_MS });
      assert.equal(second.through_seq, cps.filter((s) => s < 90).at(-1));
      const second2 = await verifyExportFile(join(dir, 'until-90.jsonl'));
      assert.deepEqual([second2.ok, second2.first_seq, second2.anchor?.seq], [true, cut + 1, cut]);
      assert.equal((await verifyStore(store)).ok, true);
      await assert.rejects(pruneAudit(store, { beforeSeq: 60, exportPath: join(dir, 'x.jsonl'), nowMs: T0_MS }), code('audit_prune_nothing'));

      // Removing more of the beginning any other way shows as missing events.
      const next = cps.find((s) => s > second.through_seq)!;
      await dropAppendOnlyTriggers(store);
      await store.db.deleteFrom('audit_events').where('seq', '<=', next).execute();
      const r = await verifyStore(store);
      assert.deepEqual([r.ok, r.problem?.seq, r.problem?.through, r.problem?.kind], [false, second.through_seq + 1, next, 'missing']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('prune refuses a broken chain and a cut with no checkpoint before it, and removes nothing', async () => {
    const store = await open();
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-audit-'));
    try {
      await seedChain(store, { events: 40, checkpointEvery: 10 });
      const first = (await checkpointSeqs(store))[0]!;
      await assert.rejects(pruneAudit(store, { beforeSeq: first, exportPath: join(dir, 'a.jsonl'), nowMs: T0_MS }), code('audit_prune_no_checkpoint'));
      await dropAppendOnlyTriggers(store);
      await store.db.updateTable('audit_events').set({ subject: 'user:mallory' }).where('seq', '=', 33).execute();
      await assert.rejects(pruneAudit(store, { beforeSeq: 30, exportPath: join(dir, 'b.jsonl'), nowMs: T0_MS }), (err: unknown) => {
        assert.ok(code('audit_prune_refused')(err));
        assert.match((err as Error).message, /seq 33/);
        return true;
      });
      assert.equal(existsSync(join(dir, 'b.jsonl')), false);
      const n = await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 40);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
