import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { canonicalEventText, canonicalJson, eventHash, GENESIS_HASH } from '../src/audit/event-hash.js';
import { JitgateError } from '../src/util/errors.js';

const base: {
  seq: number;
  id: string;
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
} = {
  seq: 1,
  id: '0b7c2f6e-3a9b-4a61-9a8e-2b1c4d5e6f70',
  at: '2026-11-24T09:00:00.000Z',
  type: 'token.issued',
  actor: 'client:ci-pipeline',
  subject: 'client:ci-pipeline',
  data: {},
  prev_hash: GENESIS_HASH,
};

const samples: (typeof base & { data: Record<string, unknown> })[] = [
  { ...base, data: { jti: 'j1', scopes: ['read:logs'], exp: 1_900_000_000, aud: 'https://deploy.internal' } },
  { ...base, seq: 42, actor: null, subject: null, data: { z: 1, a: [3, 2, 1], m: { y: null, b: true } } },
  { ...base, type: 'request.created', actor: 'user:zoë', data: { reason: 'quote " backslash \\ newline \n tab \t', e: '€', emoji: '😀' } },
  { ...base, data: { numbers: [0, -0, 1.5, 1e21, 1e-7, 123456789012345, -3.25], '\u00e9': 'key order by code unit', B: 1, a: 2 } },
  { ...base, subject: 'user:\u0000control\u001f', data: { nested: [{ b: [], a: {} }] } },
];

test('the hashed text is exactly RFC 8785 canonical JSON of the whole event', () => {
  for (const e of samples) {
    const { data, ...rest } = e;
    assert.equal(canonicalEventText(rest, canonicalize(data)!), canonicalize(e));
  }
});

/** Park–Miller: the same "random" values on every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48_271) % 2_147_483_647) / 2_147_483_647;
}

test('canonicalJson writes what the canonicalize package writes, on a thousand generated values', () => {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chars = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\u0001', 'é', '€', '😀', '\u2028', '_', ':'];
  const text = () => Array.from({ length: Math.floor(rand() * 8) }, () => pick(chars)).join('');
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.3) return pick([null, true, false, 0, -1, 1.5, 1e21, 5e-324, 2 ** 53 - 1, -123.456, text(), text()]);
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 5); i > 0; i--) o[text()] = value(depth + 1);
    if (rand() < 0.2) o.skipped = undefined;
    return o;
  };
  for (let i = 0; i < 1000; i++) {
    const v = { root: value(0) };
    assert.equal(canonicalJson(v), canonicalize(v), JSON.stringify(v));
  }
});

test('eventHash is SHA-256 hex of that text, computed independently', () => {
  for (const e of samples) {
    assert.equal(eventHash(e), createHash('sha256').update(canonicalize(e)!, 'utf8').digest('hex'));
  }
  // Any member changes the hash, seq included.
  const h = eventHash(samples[0]!);
  assert.notEqual(eventHash({ ...samples[0]!, seq: 2 }), h);
  assert.notEqual(eventHash({ ...samples[0]!, data: { ...samples[0]!.data, exp: 1 } }), h);
  assert.notEqual(eventHash({ ...samples[0]!, prev_hash: 'f'.repeat(64) }), h);
});

test('what JSON cannot carry is refused with audit_event_invalid', () => {
  const invalid = (err: unknown) => err instanceof JitgateError && err.code === 'audit_event_invalid';
  assert.throws(() => eventHash({ ...base, data: { n: Number.NaN } }), invalid);
  assert.throws(() => eventHash({ ...base, actor: 'user:\uD800' }), invalid);
  assert.throws(() => eventHash({ ...base, data: { s: 'lone \uDC00' } }), invalid);
});
