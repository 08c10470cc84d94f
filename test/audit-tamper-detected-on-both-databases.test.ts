import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'kysely';
import { forEachDatabase } from './helpers/databases.js';
import { seedChain, dropAppendOnlyTriggers, checkpointSeqs, ISSUER } from './helpers/audit.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { verifyExportFile } from '../src/audit/verify-file.js';
import { exportAudit } from '../src/audit/export.js';
import { canonicalJson, eventHashOfCanonicalData } from '../src/audit/event-hash.js';
import { signCheckpoint } from '../src/audit/checkpoint-token.js';
import { ecThumbprint, publicKeysFromJwksText } from '../src/audit/public-keys.js';
import type { Store } from '../src/store/open.js';

const appendOnly = /append-only/;

/** An attacker rewriting every event from `from` on so the chain is consistent again. */
async function rewriteFrom(store: Store, from: number, change: (data: Record<string, unknown>) => void): Promise<void> {
  const rows = await store.db.selectFrom('audit_events').selectAll().where('seq', '>=', from - 1).orderBy('seq').execute();
  let prev = rows[0]!.seq === from - 1 ? rows[0]!.hash : '0'.repeat(64);
  for (const r of rows) {
    if (Number(r.seq) < from) continue;
    const data = JSON.parse(r.data) as Record<string, unknown>;
    if (Number(r.seq) === from) change(data);
    const text = canonicalJson(data);
    const fields = { seq: Number(r.seq), id: r.id, at: r.at, type: r.type, actor: r.actor, subject: r.subject, prev_hash: prev };
    const hash = eventHashOfCanonicalData(fields, text);
    await store.db.updateTable('audit_events').set({ data: text, prev_hash: prev, hash }).where('seq', '=', r.seq).execute();
    prev = hash;
  }
  const last = rows[rows.length - 1]!;
  await store.db.updateTable('audit_head').set({ seq: Number(last.seq), hash: prev }).where('id', '=', 1).execute();
}

forEachDatabase('audit tampering', (open, dialect) => {
  test('the database refuses UPDATE and DELETE of audit events and checkpoints', async () => {
    const store = await open();
    await seedChain(store, { events: 30, checkpointEvery: 10 });
    const attempts: (() => Promise<unknown>)[] = [
      () => store.db.updateTable('audit_events').set({ data: '{}' }).where('seq', '=', 5).execute(),
      () => store.db.updateTable('audit_events').set({ seq: 999 }).where('seq', '=', 6).execute(),
      () => store.db.deleteFrom('audit_events').where('seq', '=', 7).execute(),
      () => store.db.deleteFrom('audit_events').execute(),
      () => store.db.updateTable('audit_checkpoints').set({ hash: 'f'.repeat(64) }).execute(),
      () => store.db.deleteFrom('audit_checkpoints').execute(),
    ];
    if (dialect === 'postgres') {
      attempts.push(() => sql`truncate audit_events`.execute(store.db));
      attempts.push(() => sql`truncate audit_checkpoints`.execute(store.db));
    }
    for (const [i, attempt] of attempts.entries()) await assert.rejects(attempt(), appendOnly, `attempt ${i}`);
    const n = await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 30);
    const report = await verifyStore(store);
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.ok(report.checkpoints.valid >= 2);
  });

  test('a field changed directly in the database is found at its seq', async () => {
    const store = await open();
    await seedChain(store, { events: 60, checkpointEvery: 10 });
    await dropAppendOnlyTriggers(store);
    await store.db.updateTable('audit_events').set({ data: canonicalJson({ n: 37, scopes: ['admin:billing'], note: 'event 37' }) }).where('seq', '=', 37).execute();
    const r = await verifyStore(store);
    assert.deepEqual([r.ok, r.problem?.seq, r.problem?.kind], [false, 37, 'altered'], JSON.stringify(r.problem));

    const again = await open();
    await seedChain(again, { events: 20, checkpointEvery: 10 });
    await dropAppendOnlyTriggers(again);
    await again.db.updateTable('audit_events').set({ actor: 'user:mallory' }).where('seq', '=', 4).execute();
    const r2 = await verifyStore(again);
    assert.deepEqual([r2.problem?.seq, r2.problem?.kind], [4, 'altered']);
  });

  test('a deleted row is found at its seq', async () => {
    const store = await open();
    await seedChain(store, { events: 60, checkpointEvery: 10 });
    await dropAppendOnlyTriggers(store);
    await store.db.deleteFrom('audit_events').where('seq', '=', 23).execute();
    const r = await verifyStore(store);
    assert.deepEqual([r.ok, r.problem?.seq, r.problem?.through, r.problem?.kind], [false, 23, 23, 'missing']);
  });

  test('two rows swapped are found at the first of them', async () => {
    const store = await open();
    await seedChain(store, { events: 60, checkpointEvery: 10 });
    await dropAppendOnlyTriggers(store);
    await store.db.updateTable('audit_events').set({ seq: -1 }).where('seq', '=', 12).execute();
    await store.db.updateTable('audit_events').set({ seq: 12 }).where('seq', '=', 30).execute();
    await store.db.updateTable('audit_events').set({ seq: 30 }).where('seq', '=', -1).execute();
    const r = await verifyStore(store);
    assert.deepEqual([r.ok, r.problem?.seq, r.problem?.kind], [false, 12, 'out_of_order']);
  });

  test('events removed from the end are found through the signed checkpoint after them', async () => {
    const store = await open();
    await seedChain(store, { events: 40, checkpointEvery: 10 });
    const last = (await checkpointSeqs(store)).at(-1)!;
    await dropAppendOnlyTriggers(store);
    await store.db.deleteFrom('audit_events').where('seq', '>', last - 3).execute();
    // The attacker sets the head back too: the checkpoint still knows.
    const head = await store.db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    await store.db.updateTable('audit_head').set({ seq: Number(head.seq), hash: head.hash }).execute();
    const r = await verifyStore(store);
    assert.deepEqual([r.ok, r.problem?.seq, r.problem?.kind], [false, last - 2, 'truncated']);
  });

  test('a chain recomputed consistently is caught by the checkpoints, and a forger key by pinned keys', async () => {
    const store = await open();
    const { keyring } = await seedChain(store, { events: 80, checkpointEvery: 10 });
    const pinned = publicKeysFromJwksText(JSON.stringify(keyring.jwks()), 'server JWKS copy');
    const cps = await checkpointSeqs(store);
    const target = 44;
    const vouched = cps.filter((s) => s < target).at(-1)!;
    const firstAfter = cps.find((s) => s >= target)!;
    await dropAppendOnlyTriggers(store);
    await rewriteFrom(store, target, (d) => (d.scopes = ['admin:billing']));

    // Left as they were, the signed checkpoints no longer match.
    const mismatch = await verifyStore(store);
    assert.deepEqual(
      [mismatch.ok, mismatch.problem?.seq, mismatch.problem?.through, mismatch.problem?.kind],
      [false, vouched + 1, firstAfter, 'checkpoint_mismatch'],
      JSON.stringify(mismatch.problem),
    );

    // Re-signed with a key of the attacker's own: the signatures do not verify.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
    const forger = { kid: ecThumbprint(jwk), key: privateKey };
    const rows = await store.db.selectFrom('audit_events').select(['seq', 'hash']).where('seq', 'in', cps.filter((s) => s >= target)).execute();
    await store.db.deleteFrom('audit_checkpoints').where('seq', '>=', target).execute();
    for (const r of rows) {
      const at = '2026-11-24T10:00:00.000Z';
      const jws = signCheckpoint(forger, { iss: ISSUER, seq: Number(r.seq), hash: r.hash, at });
      await store.db.insertInto('audit_checkpoints').values({ seq: Number(r.seq), hash: r.hash, at, kid: forger.kid, jws }).execute();
    }
    const forged = await verifyStore(store);
    assert.deepEqual(
      [forged.ok, forged.problem?.seq, forged.problem?.through, forged.problem?.kind],
      [false, vouched + 1, firstAfter, 'checkpoint_invalid'],
      JSON.stringify(forged.problem),
    );
    assert.match(forged.problem!.reason, new RegExp(forger.kid));

    // The attacker adds their public key to signing_keys (they cannot seal a private
    // key without the KEK, but verify reads public parts only): keys pinned apart from
    // the database still refuse it.
    await store.db
      .insertInto('signing_keys')
      .values({ kid: forger.kid, alg: 'ES256', public_jwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }), private_enc: 'x', created_at: 0, signs_from: 0, superseded_at: null, publish_until: null })
      .execute();
    const withPinned = await verifyStore(store, { keys: pinned });
    assert.deepEqual([withPinned.ok, withPinned.problem?.seq, withPinned.problem?.kind], [false, vouched + 1, 'checkpoint_invalid']);
  });

  test('an export file edited, cut short or missing a line is found', async () => {
    const store = await open();
    await seedChain(store, { events: 50, checkpointEvery: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-audit-export-'));
    try {
      const path = join(dir, 'audit.jsonl');
      const out = createWriteStream(path);
      const summary = await exportAudit(store, out, { format: 'jsonl', nowMs: Date.now() });
      out.end();
      await finished(out);
      assert.equal(summary.events, 50);
      const good = await verifyExportFile(path);
      assert.equal(good.ok, true, JSON.stringify(good.problem));
      assert.equal(good.checkpoints.valid, summary.checkpoints);

      const lines = readFileSync(path, 'utf8').split('\n');
      const at = (seq: number) => lines.findIndex((l) => l.startsWith(`{"seq":${seq},`));
      const variant = async (name: string, edit: (ls: string[]) => string[]) => {
        const p = join(dir, `${name}.jsonl`);
        writeFileSync(p, edit([...lines]).join('\n'));
        return verifyExportFile(p);
      };
      const edited = await variant('edited', (ls) => {
        ls[at(17)] = ls[at(17)]!.replace('"event 17"', '"event 17, nothing to see"');
        return ls;
      });
      assert.deepEqual([edited.ok, edited.problem?.seq, edited.problem?.kind], [false, 17, 'altered']);
      const dropped = await variant('dropped', (ls) => ls.filter((_, i) => i !== at(29)));
      assert.deepEqual([dropped.problem?.seq, dropped.problem?.kind], [29, 'missing']);
      const cut = await variant('cut', (ls) => ls.slice(0, at(41)));
      assert.deepEqual([cut.ok, cut.problem?.kind], [false, 'truncated']);
      assert.ok(cut.problem!.seq <= 41);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
