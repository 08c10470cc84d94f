import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ChainVerifier, type ChainEvent, type StoredCheckpoint, type VerifyOptions } from '../src/audit/chain-verifier.js';
import { canonicalJson, eventHashOfCanonicalData, GENESIS_HASH } from '../src/audit/event-hash.js';
import { signCheckpoint } from '../src/audit/checkpoint-token.js';
import { ecThumbprint, publicKeySet } from '../src/audit/public-keys.js';
import type { Signer } from '../src/tokens/signer.js';

function newKey(): { signer: Signer; keys: Map<string, KeyObject> } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as { crv: string; x: string; y: string };
  const kid = ecThumbprint(jwk);
  const set = publicKeySet([{ ...jwk, kid }], 'test');
  return { signer: { kid, key: privateKey }, keys: new Map(set.keys) };
}

/** A chain of `n` events from `first` (linked to `prev`), as a database would hold it. */
function chain(n: number, first = 1, prev = GENESIS_HASH): ChainEvent[] {
  const out: ChainEvent[] = [];
  for (let seq = first; seq < first + n; seq++) {
    const data = canonicalJson({ n: seq, who: `user:u${seq % 7}` });
    const base = { seq, id: `id-${seq}`, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), type: 'grant.started', actor: null, subject: `user:u${seq % 7}`, prev_hash: prev };
    const hash = eventHashOfCanonicalData(base, data);
    out.push({ ...base, data, hash });
    prev = hash;
  }
  return out;
}

/** Recomputes every hash from `from` on, as an attacker rewriting the chain would. */
function rehashFrom(events: ChainEvent[], from: number): void {
  let prev = from === events[0]!.seq ? events[0]!.prev_hash : events.find((e) => e.seq === from - 1)!.hash;
  for (const e of events) {
    if (e.seq < from) continue;
    e.prev_hash = prev;
    e.hash = eventHashOfCanonicalData(e, e.data as string);
    prev = e.hash;
  }
}

function checkpoints(events: ChainEvent[], every: number, signer: Signer): StoredCheckpoint[] {
  return events
    .filter((e) => e.seq % every === 0)
    .map((e) => ({ seq: e.seq, hash: e.hash, jws: signCheckpoint(signer, { iss: 'https://jit.test', seq: e.seq, hash: e.hash, at: '2026-01-01T00:00:00.000Z' }) }));
}

function run(events: ChainEvent[], opts: Partial<VerifyOptions> & Pick<VerifyOptions, 'keys'>) {
  const v = new ChainVerifier({ checkpoints: [], expectedFirstSeq: 1, anchorRequired: true, ...opts });
  for (const e of events) {
    v.push(e);
    if (v.failed) break;
  }
  return v.finish();
}

const key = newKey();

test('an intact chain verifies; events after the last checkpoint are reported as not yet signed', () => {
  const events = chain(95);
  const r = run(events, { keys: key.keys, checkpoints: checkpoints(events, 10, key.signer), head: { seq: 95, hash: events[94]!.hash } });
  assert.equal(r.ok, true, JSON.stringify(r.problem));
  assert.equal(r.events, 95);
  assert.deepEqual(r.checkpoints, { total: 9, valid: 9, last_valid_seq: 90, kids: [key.signer.kid] });
  assert.deepEqual(r.unsigned_tail, { from: 91, to: 95 });
});

test('a changed field is `altered` at its own seq', () => {
  const events = chain(50);
  events[36]!.data = canonicalJson({ n: 37, who: 'user:mallory' });
  const r = run(events, { keys: key.keys, checkpoints: checkpoints(events, 10, key.signer) });
  assert.deepEqual([r.ok, r.problem?.seq, r.problem?.kind], [false, 37, 'altered']);
});

test('a removed event is `missing` at its seq; a removed stretch names its range', () => {
  const events = chain(50);
  const one = run(events.filter((e) => e.seq !== 20), { keys: key.keys });
  assert.deepEqual([one.problem?.seq, one.problem?.through, one.problem?.kind], [20, 20, 'missing']);
  const many = run(events.filter((e) => e.seq < 20 || e.seq > 24), { keys: key.keys });
  assert.deepEqual([many.problem?.seq, many.problem?.through, many.problem?.kind], [20, 24, 'missing']);
});

test('two events swapped (their seqs exchanged) are `out_of_order` at the first position', () => {
  const events = chain(50);
  const a = events[11]!;
  const b = events[29]!;
  const swapped = events.map((e) => (e === a ? { ...b, seq: 12 } : e === b ? { ...a, seq: 30 } : e));
  const r = run(swapped, { keys: key.keys });
  assert.deepEqual([r.problem?.seq, r.problem?.kind], [12, 'out_of_order']);
});

test('an event altered with its own hash recomputed is named by the broken link after it', () => {
  const events = chain(50);
  const e = events[14]!;
  e.data = canonicalJson({ n: 15, who: 'user:mallory' });
  e.hash = eventHashOfCanonicalData(e, e.data);
  const r = run(events, { keys: key.keys });
  assert.deepEqual([r.problem?.seq, r.problem?.kind], [15, 'rehashed']);
});

test('a chain rewritten consistently no longer matches the signed checkpoints', () => {
  const events = chain(60);
  const cps = checkpoints(events, 10, key.signer);
  events[33]!.data = canonicalJson({ n: 34, who: 'user:mallory' });
  rehashFrom(events, 34);
  const r = run(events, { keys: key.keys, checkpoints: cps });
  // Checkpoint 30 still vouches for 1..30; the first one that disagrees is at 40.
  assert.deepEqual([r.problem?.seq, r.problem?.through, r.problem?.kind], [31, 40, 'checkpoint_mismatch']);
});

test('…and re-signed with a key that is not trusted, the checkpoints do not verify', () => {
  const events = chain(60);
  const original = checkpoints(events, 10, key.signer);
  events[33]!.data = canonicalJson({ n: 34, who: 'user:mallory' });
  rehashFrom(events, 34);
  const attacker = newKey();
  const forged = [...original.filter((c) => c.seq < 34), ...checkpoints(events, 10, attacker.signer).filter((c) => c.seq >= 34)];
  const r = run(events, { keys: key.keys, checkpoints: forged });
  assert.deepEqual([r.problem?.seq, r.problem?.through, r.problem?.kind], [31, 40, 'checkpoint_invalid']);
  assert.match(r.problem!.reason, new RegExp(attacker.signer.kid));
  // Trusting the attacker's key instead (as a database where they added it would) passes: hence --keys.
  const fooled = run(events, { keys: new Map([...key.keys, ...attacker.keys]), checkpoints: forged });
  assert.equal(fooled.ok, true);
});

test('an invalid checkpoint whose events a later valid one vouches for is named at its own seq', () => {
  const events = chain(40);
  const cps = checkpoints(events, 10, key.signer);
  cps[1] = { ...cps[1]!, jws: cps[1]!.jws.slice(0, -4) + (cps[1]!.jws.endsWith('AAAA') ? 'BBBB' : 'AAAA') };
  const r = run(events, { keys: key.keys, checkpoints: cps });
  assert.deepEqual([r.ok, r.problem?.seq, r.problem?.kind], [false, 20, 'checkpoint_invalid']);
  assert.match(r.problem!.reason, /vouched for by the checkpoint at seq 30/);
});

test('events removed from the end are found through a checkpoint or the chain head', () => {
  const events = chain(50);
  const cps = checkpoints(events, 10, key.signer);
  const byCheckpoint = run(events.slice(0, 45), { keys: key.keys, checkpoints: cps });
  assert.deepEqual([byCheckpoint.problem?.seq, byCheckpoint.problem?.through, byCheckpoint.problem?.kind], [46, 50, 'truncated']);
  const byHead = run(events.slice(0, 47), { keys: key.keys, checkpoints: cps.slice(0, 4), head: { seq: 50, hash: events[49]!.hash } });
  assert.deepEqual([byHead.problem?.seq, byHead.problem?.through, byHead.problem?.kind], [48, 50, 'truncated']);
});

test('a pruned chain verifies from its checkpoint; a prefix removed without a prune record does not', () => {
  const events = chain(50);
  const cps = checkpoints(events, 10, key.signer);
  const rest = events.slice(20);
  const pruned = run(rest, { keys: key.keys, checkpoints: cps, expectedFirstSeq: 21 });
  assert.equal(pruned.ok, true, JSON.stringify(pruned.problem));
  assert.deepEqual(pruned.anchor, { seq: 20, hash: events[19]!.hash });
  const unrecorded = run(rest, { keys: key.keys, checkpoints: cps, expectedFirstSeq: 1 });
  assert.deepEqual([unrecorded.problem?.seq, unrecorded.problem?.through, unrecorded.problem?.kind], [1, 20, 'missing']);
  const noAnchor = run(events.slice(25), { keys: key.keys, checkpoints: cps, expectedFirstSeq: 26 });
  assert.deepEqual([noAnchor.problem?.seq, noAnchor.problem?.kind], [26, 'unanchored']);
});

test('the first event must start from the genesis hash', () => {
  const events = chain(5, 1, 'a'.repeat(64));
  const r = run(events, { keys: key.keys });
  assert.deepEqual([r.problem?.seq, r.problem?.kind], [1, 'unanchored']);
});
