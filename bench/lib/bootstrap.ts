/**
 * How sure a difference of two pooled p99s is, when both were measured in
 * rounds that took turns: a paired bootstrap over rounds. Each resample
 * draws as many round indices as there are rounds, with replacement, takes
 * those rounds of both sides (the same indices, since round i of each side
 * ran next to the other in time), pools each side's latencies and takes the
 * difference of the two p99s. The spread of that difference over the
 * resamples is the uncertainty of the measured one. Rounds are resampled
 * whole (a block bootstrap), so a stall that spoilt a stretch of one round
 * stays with that round instead of being treated as independent requests.
 *
 * Each round's latencies are sorted once; a resample's pooled p99 is found
 * by bisecting on the value (to 1 µs) with counts from binary searches in
 * the rounds it drew, so nothing is pooled or sorted per resample.
 */

export interface BootstrapOptions {
  resamples?: number;
  /** Share of the resamples outside the interval, half on each side. Default 0.1 (a 90 % interval). */
  alpha?: number;
  /** How finely each resample's p99 is found, ms. Default 0.001 (1 µs). */
  resolutionMs?: number;
  /** Seed of the resampling: the same latencies give the same interval. */
  seed?: number;
}

export interface DifferenceInterval {
  /** Bounds of `p99(measured) − p99(reference)`, ms. */
  low: number;
  high: number;
  resamples: number;
  /** Confidence of the interval, e.g. 0.9. */
  level: number;
}

/** mulberry32: a small seeded generator, so a report can be reproduced from its latencies. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many of `sorted` are ≤ x. */
function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The p99 (nearest rank) of the rounds taken `times[i]` times each, found by
 * bisecting on the value to within `resolutionMs`, without pooling anything.
 */
function pooledP99(rounds: readonly Float64Array[], times: Uint16Array, resolutionMs: number, maxMs: number): number {
  let total = 0;
  for (let i = 0; i < rounds.length; i++) total += times[i]! * rounds[i]!.length;
  const rank = Math.ceil(total * 0.99);
  let lo = 0;
  let hi = maxMs;
  while (hi - lo > resolutionMs) {
    const mid = (lo + hi) / 2;
    let n = 0;
    for (let i = 0; i < rounds.length; i++) if (times[i]) n += times[i]! * countAtMost(rounds[i]!, mid);
    if (n >= rank) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The interval of `p99(measured) − p99(reference)` over paired rounds:
 * `measured[i]` and `reference[i]` are the latencies (ms) of round i of each
 * side. Needs at least two rounds with answers on both sides.
 */
export function pairedP99DifferenceInterval(
  measured: readonly (readonly number[])[],
  reference: readonly (readonly number[])[],
  opts: BootstrapOptions = {},
): DifferenceInterval {
  const rounds = Math.min(measured.length, reference.length);
  if (rounds < 2) throw new Error('a bootstrap over rounds needs at least two rounds');
  const resamples = opts.resamples ?? 2000;
  const alpha = opts.alpha ?? 0.1;
  const resolutionMs = opts.resolutionMs ?? 0.001;
  const sorted = (side: readonly (readonly number[])[]) => side.slice(0, rounds).map((l) => Float64Array.from(l).sort());
  const sm = sorted(measured);
  const sr = sorted(reference);
  const maxMs = Math.max(...[...sm, ...sr].map((l) => (l.length ? l[l.length - 1]! : 0))) + resolutionMs;
  const next = random(opts.seed ?? 1);
  const times = new Uint16Array(rounds);
  const diffs: number[] = [];
  for (let r = 0; r < resamples; r++) {
    times.fill(0);
    for (let k = 0; k < rounds; k++) times[Math.floor(next() * rounds)]!++;
    let nm = 0;
    let nr = 0;
    for (let i = 0; i < rounds; i++) {
      nm += times[i]! * sm[i]!.length;
      nr += times[i]! * sr[i]!.length;
    }
    if (nm === 0 || nr === 0) continue;
    diffs.push(pooledP99(sm, times, resolutionMs, maxMs) - pooledP99(sr, times, resolutionMs, maxMs));
  }
  if (diffs.length === 0) throw new Error('no round had answers on both sides');
  diffs.sort((x, y) => x - y);
  const at = (q: number) => diffs[Math.min(diffs.length - 1, Math.max(0, Math.floor(q * diffs.length)))]!;
  return { low: at(alpha / 2), high: at(1 - alpha / 2), resamples: diffs.length, level: 1 - alpha };
}
