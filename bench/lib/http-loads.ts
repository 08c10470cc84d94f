/**
 * Loads for the composite cases, whose requests differ in their headers
 * (one bearer token of a pool per request) and which need a fixed rate as
 * well as the most a server can take:
 *
 * - `closedLoad`: autocannon with N connections, as fast as the server
 *   answers (the same generator as the fixed loads of the other cases).
 * - `openLoad`: requests started at a fixed rate whatever the answers, on an
 *   undici pool, each timed to the microsecond from its start to the end of
 *   its body. autocannon's histogram keeps whole milliseconds, too coarse to
 *   judge a sub-millisecond difference in p99.
 *
 * Both watch the measured process's CPU and memory from /proc.
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { summarize } from './percentiles.js';
import { watchServer } from './server-watch.js';
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

/**
 * Requests started at a fixed `rate` per second (open loop) on up to
 * `settings.connections` connections: a warm-up, then the measured time.
 * Latencies are of good answers, in ms with microsecond resolution.
 */
export async function openLoad(pid: number, load: HttpLoad, rate: number, settings: MeasureSettings): Promise<HttpFigures> {
  const pool = new Pool(load.origin, { connections: settings.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    if (settings.warmupS > 0) await paced(pool, load, rate, settings.warmupS, () => {}, () => {});
    const latencies: number[] = [];
    const statusCodes: Record<string, number> = {};
    let bad = 0;
    let non2xx = 0;
    let errors = 0;
    let timeouts = 0;
    const watch = await watchServer(pid);
    const t0 = performance.now();
    await paced(
      pool,
      load,
      rate,
      settings.durationS,
      (ms, status, good) => {
        statusCodes[status] = (statusCodes[status] ?? 0) + 1;
        if (status < 200 || status >= 300) non2xx++;
        if (good) latencies.push(ms);
        else bad++;
      },
      (timeout) => (timeout ? timeouts++ : errors++),
    );
    const wallS = (performance.now() - t0) / 1000;
    const requests = latencies.length + bad;
    const window = await watch.end(requests);
    const s = summarize(latencies);
    return {
      unit: 'request',
      rps: requests / wallS,
      p50Ms: round3(s.p50),
      p90Ms: round3(s.p90),
      p99Ms: round3(s.p99),
      maxMs: round3(s.max),
      requests,
      durationS: wallS,
      errors,
      timeouts,
      non2xx,
      mismatches: bad,
      statusCodes,
      ...window,
    };
  } finally {
    await pool.close();
  }
}
