/**
 * Loads for the composite cases, whose requests differ in their headers
 * (one bearer token of a pool per request) and which need a fixed rate as
 * well as the most a server can take:
 *
 * - `closedLoad`: autocannon with N connections, as fast as the server
 *   answers (the same generator as the fixed loads of the other cases).
 * - `interleavedOpenLoads`: requests started at a fixed rate whatever the
 *   answers, on an undici pool per target, each timed to the microsecond
 *   from its start to the end of its body, in rounds that take turns between
 *   the targets. autocannon's histogram keeps whole milliseconds, too coarse
 *   to judge a sub-millisecond difference in p99.
 *
 * Both watch the measured process's CPU and memory from /proc.
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { summarize } from './percentiles.js';
import { watchServer, type WindowFigures } from './server-watch.js';
import type { LoadResult, MeasureSettings } from './types.js';

/** One request of a load; the load cycles through them. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  /** Path and query on the target origin. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What a load sends and how a good answer looks. */
export interface HttpLoad {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  requests: LoadRequest[];
  /** A substring every good answer's body holds. */
  expectBody: string;
}

export type HttpFigures = Omit<LoadResult, 'serverId' | 'label' | 'role' | 'problems' | 'describe'>;

function fire(load: HttpLoad, durationS: number, connections: number) {
  const expected = load.expectBody;
  return autocannon({
    url: load.origin,
    requests: load.requests.map((r) => ({ method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) })),
    connections,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
    verifyBody: (body) => body.includes(expected),
  });
}

/** As many requests as `pid`'s server answers on `settings.connections` connections: a warm-up, then the measured load. */
export async function closedLoad(pid: number, load: HttpLoad, settings: MeasureSettings): Promise<HttpFigures> {
  if (settings.warmupS > 0) await fire(load, settings.warmupS, settings.connections);
  const watch = await watchServer(pid);
  const result = await fire(load, settings.durationS, settings.connections);
  const requests = result['2xx'] + result.non2xx;
  const window = await watch.end(requests);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) statusCodes[code] = stat.count;
  return {
    unit: 'request',
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests,
    durationS: result.duration,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    statusCodes,
    ...window,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** Sends at `rate` per second for `seconds`; calls `done` with each request's outcome. */
async function paced(
  pool: Pool,
  load: HttpLoad,
  rate: number,
  seconds: number,
  done: (ms: number, status: number, good: boolean) => void,
  failed: (timeout: boolean) => void,
): Promise<void> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const pending = new Set<Promise<void>>();
  let sent = 0;
  for (let now = start; now < end; now = performance.now()) {
    const due = Math.floor(((now - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const r = load.requests[sent % load.requests.length]!;
      const t0 = performance.now();
      const p = pool
        .request({ method: r.method, path: r.path, headers: r.headers, body: r.body ?? null, headersTimeout: 10_000, bodyTimeout: 10_000 })
        .then(async (res) => {
          const text = await res.body.text();
          done(performance.now() - t0, res.statusCode, res.statusCode >= 200 && res.statusCode < 300 && text.includes(load.expectBody));
        })
        .catch((err: { code?: string }) => failed(err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT'))
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    await sleep(1);
  }
  await Promise.all(pending);
}

/** What one measured open-loop window saw, before summarizing. */
interface OpenWindow {
  latencies: number[];
  statusCodes: Record<string, number>;
  bad: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  wallS: number;
  window: WindowFigures;
}

async function openWindow(pool: Pool, pid: number, load: HttpLoad, rate: number, seconds: number): Promise<OpenWindow> {
  const w: Omit<OpenWindow, 'wallS' | 'window'> = { latencies: [], statusCodes: {}, bad: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const watch = await watchServer(pid);
  const t0 = performance.now();
  await paced(
    pool,
    load,
    rate,
    seconds,
    (ms, status, good) => {
      w.statusCodes[status] = (w.statusCodes[status] ?? 0) + 1;
      if (status < 200 || status >= 300) w.non2xx++;
      if (good) w.latencies.push(ms);
      else w.bad++;
    },
    (timeout) => (timeout ? w.timeouts++ : w.errors++),
  );
  const wallS = (performance.now() - t0) / 1000;
  return { ...w, wallS, window: await watch.end(w.latencies.length + w.bad) };
}

/** The figures of one or more windows of the same target, latencies pooled. */
function figuresOf(windows: readonly OpenWindow[]): HttpFigures {
  const latencies = windows.flatMap((w) => w.latencies);
  const sum = (f: (w: OpenWindow) => number) => windows.reduce((a, w) => a + f(w), 0);
  const statusCodes: Record<string, number> = {};
  for (const w of windows) for (const [code, n] of Object.entries(w.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const bad = sum((w) => w.bad);
  const requests = latencies.length + bad;
  const wallS = sum((w) => w.wallS);
  const cpuS = sum((w) => w.window.serverCpuS ?? 0);
  const s = summarize(latencies);
  const first = windows[0]!.window;
  return {
    unit: 'request',
    rps: requests / wallS,
    p50Ms: round3(s.p50),
    p90Ms: round3(s.p90),
    p99Ms: round3(s.p99),
    maxMs: round3(s.max),
    requests,
    durationS: wallS,
    errors: sum((w) => w.errors),
    timeouts: sum((w) => w.timeouts),
    non2xx: sum((w) => w.non2xx),
    mismatches: bad,
    statusCodes,
    serverCpuS: cpuS,
    serverCpuPct: (cpuS / wallS) * 100,
    serverCpuUsPerReq: requests > 0 ? (cpuS * 1e6) / requests : 0,
    serverPeakRssMiB: Math.max(...windows.map((w) => w.window.serverPeakRssMiB ?? 0)),
    serverMaxSampledRssMiB: Math.max(...windows.map((w) => w.window.serverMaxSampledRssMiB ?? 0)),
    clientCpuPct: sum((w) => (w.window.clientCpuPct ?? 0) * w.wallS) / wallS,
    loadAvgBefore: first.loadAvgBefore,
    stealPct: sum((w) => (w.window.stealPct ?? 0) * w.wallS) / wallS,
  };
}

const newPool = (load: HttpLoad, settings: MeasureSettings) => new Pool(load.origin, { connections: settings.connections, pipelining: 1, keepAliveTimeout: 30_000 });

/** A target of {@link interleavedOpenLoads}: the process measured and what it is sent. */
export interface OpenTarget {
  pid: number;
  load: HttpLoad;
  /** This target's own rate per second, instead of the common one. */
  rate?: number;
}

/** Pooled figures per target, and each round's p99 per target (ms), in target order. */
export interface InterleavedFigures {
  figures: HttpFigures[];
  roundP99Ms: number[][];
}

/** Warm-up before each later round: long enough to reopen keep-alive connections the target closed while idle. */
const ROUND_WARMUP_S = 0.5;

/**
 * The same open load (`rate`, or a target's own) on several targets, in `rounds` short rounds that take
 * turns (A B, B A, A B, …) instead of one long window each: a machine whose
 * background load drifts during the run then weighs on every target alike,
 * where back-to-back windows would hand the drift to whichever ran second.
 * Each target's latencies are pooled over its rounds; `settings.durationS`
 * is the measured time per target, split over the rounds.
 */
export async function interleavedOpenLoads(targets: readonly OpenTarget[], rate: number, settings: MeasureSettings, rounds: number): Promise<InterleavedFigures> {
  const pools = targets.map((t) => newPool(t.load, settings));
  const windows: OpenWindow[][] = targets.map(() => []);
  const perRoundS = settings.durationS / rounds;
  try {
    for (let r = 0; r < rounds; r++) {
      const order = targets.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const i of order) {
        const t = targets[i]!;
        const warmupS = windows[i]!.length === 0 ? settings.warmupS : Math.min(settings.warmupS, ROUND_WARMUP_S);
        const r = t.rate ?? rate;
        if (warmupS > 0) await paced(pools[i]!, t.load, r, warmupS, () => {}, () => {});
        windows[i]!.push(await openWindow(pools[i]!, t.pid, t.load, r, perRoundS));
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return {
    figures: windows.map((w) => figuresOf(w)),
    roundP99Ms: windows.map((ws) => ws.map((w) => round3(summarize(w.latencies).p99))),
  };
}
