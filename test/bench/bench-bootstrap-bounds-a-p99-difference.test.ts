import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedP99DifferenceInterval } from '../../bench/lib/bootstrap.js';

/** Latencies of one round: a seeded spread around `baseMs`, with `stalls` answers `stallMs` late. */
function round(seed: number, n: number, baseMs: number, stalls = 0, stallMs = 0): number[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = Array.from({ length: n }, () => baseMs + next() * 0.5);
  for (let i = 0; i < stalls; i++) out[i] = stallMs + next();
  return out;
}

const rounds = (count: number, f: (i: number) => number[]) => Array.from({ length: count }, (_, i) => f(i));

test('equal sides give an interval around zero, narrower than the 1 ms judged', () => {
  const a = rounds(10, (i) => round(i + 1, 2000, 1));
  const b = rounds(10, (i) => round(i + 101, 2000, 1));
  const iv = pairedP99DifferenceInterval(a, b);
  assert.ok(iv.low <= 0 && iv.high >= 0, `${iv.low}..${iv.high}`);
  assert.ok(iv.high - iv.low < 0.2, `${iv.low}..${iv.high}`);
  assert.equal(iv.level, 0.9);
});

test('a side slower by 3 ms everywhere is bounded away from 1 ms', () => {
  const a = rounds(10, (i) => round(i + 1, 2000, 4));
  const b = rounds(10, (i) => round(i + 101, 2000, 1));
  const iv = pairedP99DifferenceInterval(a, b);
  assert.ok(iv.low > 2.5 && iv.high < 3.5, `${iv.low}..${iv.high}`);
});

test('stalls in a few rounds of one side widen the interval instead of deciding it', () => {
  // Two of ten rounds of the measured side hold 3 % of answers 20 ms late: the pooled p99 moves, but how much depends on which rounds are drawn.
  const a = rounds(10, (i) => round(i + 1, 2000, 1, i < 2 ? 60 : 0, 20));
  const b = rounds(10, (i) => round(i + 101, 2000, 1));
  const iv = pairedP99DifferenceInterval(a, b);
  assert.ok(iv.low < 1 && iv.high > 10, `${iv.low}..${iv.high}`);
});

test('the same latencies and seed give the same interval; one round is refused', () => {
  const a = rounds(6, (i) => round(i + 1, 500, 1, i === 0 ? 10 : 0, 5));
  const b = rounds(6, (i) => round(i + 50, 500, 1));
  assert.deepEqual(pairedP99DifferenceInterval(a, b, { seed: 7 }), pairedP99DifferenceInterval(a, b, { seed: 7 }));
  assert.throws(() => pairedP99DifferenceInterval([a[0]!], [b[0]!]), /at least two rounds/);
});
