/**
 * Loads for the composite cases, whose requests differ in their headers
 * (one bearer token of a pool per request) and which need a fixed rate as
 * well as the most a server can take:
 *
 * - `closedLoad`: autocannon with N connections, as fast as the server
 *   answers (the same generator as the fixed loads of the other cases).
 * - `interleavedOpenLoads`: requests started at a fixed rate whatever the
 *   answers, by a lean generator in its own process (open-loop-driver.ts),
 *   each timed to the microsecond
 *   from its start to the end of its body, in rounds that take turns between
 *   the targets. autocannon's histogram keeps whole milliseconds, too coarse
 *   to judge a sub-millisecond difference in p99.
 *
 * Both watch the measured process's CPU and memory from /proc.
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverMessage, WindowOrder, WindowReport } from './open-loop-driver.js';
import { summarize } from './percentiles.js';
import { watchServer, type ServerWatch, type WindowFigures } from './server-watch.js';
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

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** What one measured open-loop window saw, before summarizing, with the measured process's figures over it. */
type OpenWindow = Omit<WindowReport, 'type' | 'id'> & { window: WindowFigures };

/** The figures of one or more windows of the same target, latencies pooled. */
function figuresOf(windows: readonly OpenWindow[]): HttpFigures {
  const latencies = windows.flatMap((w) => w.latenciesMs);
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

/** A target of {@link interleavedOpenLoads}: the process measured and what it is sent. */
export interface OpenTarget {
  pid: number;
  load: HttpLoad;
  /** This target's own rate per second, instead of the common one. */
  rate?: number;
}

/** Pooled figures per target, and each round's p99 and latencies per target (ms), in target order. */
export interface InterleavedFigures {
  figures: HttpFigures[];
  roundP99Ms: number[][];
  roundLatenciesMs: number[][][];
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
export async function interleavedOpenLoads(
  targets: readonly OpenTarget[],
  rate: number,
  settings: MeasureSettings,
  rounds: number,
  hooks: { onDriver?: (pid: number) => void | Promise<void> } = {},
): Promise<InterleavedFigures> {
  const driver = await OpenLoopDriver.start();
  const windows: OpenWindow[][] = targets.map(() => []);
  const perRoundS = settings.durationS / rounds;
  try {
    await hooks.onDriver?.(driver.pid);
    for (let r = 0; r < rounds; r++) {
      const order = targets.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const i of order) {
        const t = targets[i]!;
        const warmupS = windows[i]!.length === 0 ? settings.warmupS : Math.min(settings.warmupS, ROUND_WARMUP_S);
        const spec = { load: t.load, rate: t.rate ?? rate, connections: settings.connections };
        if (warmupS > 0) await driver.run({ ...spec, seconds: warmupS });
        windows[i]!.push(await driver.run({ ...spec, seconds: perRoundS }, t.pid));
      }
    }
  } finally {
    await driver.stop();
  }
  return {
    figures: windows.map((w) => figuresOf(w)),
    roundP99Ms: windows.map((ws) => ws.map((w) => round3(summarize(w.latenciesMs).p99))),
    roundLatenciesMs: windows.map((ws) => ws.map((w) => w.latenciesMs)),
  };
}

const DRIVER = fileURLToPath(new URL('./open-loop-driver.ts', import.meta.url));

/** The open-loop generator process (bench/lib/open-loop-driver.ts), one window at a time. */
class OpenLoopDriver {
  private nextId = 1;
  private readonly waiting = new Map<number, { started?: () => void; done: (r: WindowReport) => void; failed: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: DriverMessage) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      if (m.type === 'started') w.started?.();
      else {
        this.waiting.delete(m.id);
        if (m.type === 'done') w.done(m);
        else w.failed(new Error(`load generator: ${m.message}`));
      }
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.failed(new Error(`load generator exited (code ${code})`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<OpenLoopDriver> {
    const child = fork(DRIVER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new OpenLoopDriver(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** One window; with `pid`, that process's CPU and memory (and the generator's CPU) are watched over it. */
  async run(spec: { load: HttpLoad; rate: number; connections: number; seconds: number }, pid?: number): Promise<OpenWindow> {
    const id = this.nextId++;
    const order: WindowOrder = {
      type: 'window', id, origin: spec.load.origin, requests: spec.load.requests, expectBody: spec.load.expectBody,
      rate: spec.rate, seconds: spec.seconds, connections: spec.connections,
    };
    let watch: Promise<ServerWatch> | null = null;
    const report = await new Promise<WindowReport>((done, failed) => {
      this.waiting.set(id, { done, failed, ...(pid !== undefined ? { started: () => void (watch = watchServer(pid, this.pid)) } : {}) });
      this.child.send(order);
    });
    const window = watch
      ? await (await (watch as Promise<ServerWatch>)).end(report.latenciesMs.length + report.bad)
      : ({} as WindowFigures);
    const { type: _type, id: _id, ...seen } = report;
    return { ...seen, window };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (this.child.connected) this.child.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
