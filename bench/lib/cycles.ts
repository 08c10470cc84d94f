/**
 * A cycle load: N concurrent workers, each repeating a dependent sequence of
 * requests (its script, a `CyclePlan`) on a pooled undici keep-alive client.
 * The workers run without a break from the warm-up through the measured
 * time, so the measurement starts and ends in steady state: a cycle counts
 * when it completes inside the measured time. A cycle counts only when every
 * step answered with the status and body it expects; anything else is
 * counted against the figure, never dropped.
 */
import { Pool } from 'undici';
import { summarize } from './percentiles.js';
import { watchServer } from './server-watch.js';
import { cycleProblems, type CycleCounts } from './verdict.js';
import type { CycleHttp, CyclePlan, CycleWorker, LoadResult, MeasureSettings, RunningServer, StepFigures, StepRequest, StepResponse } from './types.js';

type Figures = Omit<LoadResult, 'serverId' | 'label' | 'role' | 'problems' | 'describe'>;

/** How long a step may wait for its answer before it counts as a timeout. */
const STEP_TIMEOUT_MS = 10_000;

/** A step answered, but not as the script needs: the cycle fails and is counted under `key`. */
class StepFailure extends Error {
  constructor(
    readonly kind: 'status' | 'body',
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** What one phase (warm-up, measured time, the drain after it) saw. */
class Recorder {
  cycles = 0;
  failed = 0;
  errors = 0;
  timeouts = 0;
  readonly cycleMs: number[] = [];
  /** When each completed cycle ended, ms after the phase began. */
  readonly cycleEnds: number[] = [];
  readonly stepMs = new Map<string, number[]>();
  readonly statuses = new Map<string, Record<string, number>>();
  readonly unexpected: Record<string, number> = {};
  readonly badBodies: Record<string, number> = {};
  /** The first few failure messages, for the log. */
  readonly samples: string[] = [];

  constructor(readonly startedAt: number = performance.now()) {}

  completed(startMs: number, endMs: number): void {
    this.cycles++;
    this.cycleMs.push(endMs - startMs);
    this.cycleEnds.push(endMs - this.startedAt);
  }

  answered(step: string, status: number, ms: number, expected: boolean): void {
    const codes = this.statuses.get(step) ?? {};
    codes[String(status)] = (codes[String(status)] ?? 0) + 1;
    this.statuses.set(step, codes);
    if (!expected) return;
    const list = this.stepMs.get(step) ?? [];
    list.push(ms);
    this.stepMs.set(step, list);
  }

  failure(err: unknown): void {
    this.failed++;
    if (err instanceof StepFailure) {
      const bucket = err.kind === 'status' ? this.unexpected : this.badBodies;
      bucket[err.key] = (bucket[err.key] ?? 0) + 1;
    } else if (TIMEOUT_CODES.has((err as { code?: string }).code ?? '')) {
      this.timeouts++;
    } else {
      this.errors++;
    }
    if (this.samples.length < 3) this.samples.push((err as Error).message ?? String(err));
  }
}

/** The problem+json `code`/`type` or OAuth `error` of a refusal, for the failure message; never the body itself. */
function refusalOf(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const what = [body.code, body.error, body.type].find((v) => typeof v === 'string');
    return typeof what === 'string' ? ` (${what})` : '';
  } catch {
    return '';
  }
}

function pooledHttp(pool: Pool, current: () => Recorder): CycleHttp {
  return {
    async send(req: StepRequest): Promise<StepResponse> {
      const t0 = performance.now();
      const res = await pool.request({
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body,
        headersTimeout: STEP_TIMEOUT_MS,
        bodyTimeout: STEP_TIMEOUT_MS,
      });
      const text = await res.body.text();
      const ms = performance.now() - t0;
      const expected = res.statusCode === req.expectStatus;
      current().answered(req.step, res.statusCode, ms, expected);
      if (!expected) {
        throw new StepFailure('status', `${req.step} ${res.statusCode}`, `${req.step}: ${res.statusCode}${refusalOf(text)}, expected ${req.expectStatus}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      if (json === null || typeof json !== 'object' || Array.isArray(json)) {
        throw new StepFailure('body', req.step, `${req.step}: the body is not a JSON object`);
      }
      return { status: res.statusCode, json: json as Record<string, unknown> };
    },
    reject(step: string, why: string): never {
      throw new StepFailure('body', step, `${step}: ${why}`);
    },
  };
}

/**
 * Loops a worker's cycles until `stopped()`; each completion or failure goes
 * to the phase current when it happens.
 */
async function loop(w: CycleWorker, first: number, stopped: () => boolean, current: () => Recorder): Promise<void> {
  let n = first;
  while (!stopped()) {
    try {
      await w.between?.();
    } catch (err) {
      current().failure(err);
      continue;
    }
    if (stopped()) break;
    const start = performance.now();
    try {
      await w.cycle(n++);
      current().completed(start, performance.now());
    } catch (err) {
      current().failure(err);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function stepFigures(plan: CyclePlan, rec: Recorder): StepFigures[] {
  const names = [...plan.steps, ...[...rec.statuses.keys()].filter((s) => !plan.steps.includes(s))];
  return names.map((step) => {
    const ms = rec.stepMs.get(step) ?? [];
    const s = summarize(ms);
    return { step, ok: ms.length, p50Ms: round(s.p50), p99Ms: round(s.p99), maxMs: round(s.max), statusCodes: rec.statuses.get(step) ?? {} };
  });
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Cycles/s in each third of the measured time, from when each cycle ended
 * (ms after it began): a rate that falls from third to third means each
 * cycle costs more as the data the cycles leave behind grows.
 */
export function ratesByThird(cycleEndsMs: readonly number[], durationS: number): number[] {
  const thirdMs = (durationS * 1000) / 3;
  const counts = [0, 0, 0];
  for (const t of cycleEndsMs) {
    const i = Math.min(2, Math.max(0, Math.floor(t / thirdMs)));
    counts[i]!++;
  }
  return counts.map((n) => n / (thirdMs / 1000));
}

/**
 * Readies `settings.connections` workers, warms up for `settings.warmupS`,
 * then measures for `settings.durationS`: cycles/s, cycle latency, per-step
 * figures, and the server's CPU and memory over the measured time. Throws when
 * a worker cannot be readied.
 */
export async function measureCycles(
  server: RunningServer,
  plan: CyclePlan,
  settings: MeasureSettings,
  log: (line: string) => void = () => {},
): Promise<{ figures: Figures; problems: string[] }> {
  const pool = new Pool(server.baseUrl, {
    connections: settings.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: STEP_TIMEOUT_MS,
    bodyTimeout: STEP_TIMEOUT_MS,
  });
  let current = new Recorder();
  const http = pooledHttp(pool, () => current);
  try {
    const workers = await Promise.all(Array.from({ length: settings.connections }, (_, i) => plan.worker(i, http)));

    // One cycle first: a server that cannot complete one is not measured at all, rather than measured failing.
    const first = workers[0];
    if (first) {
      await first.between?.();
      try {
        await first.cycle(1);
      } catch (err) {
        throw new Error(`the server did not complete a first cycle: ${(err as Error).message}`);
      }
    }

    const warm = new Recorder();
    current = warm;
    let stop = false;
    const loops = workers.map((w, i) => loop(w, i === 0 ? 2 : 1, () => stop, () => current));
    await sleep(settings.warmupS * 1000);

    const watch = await watchServer(server.pid);
    const rec = new Recorder();
    current = rec;
    await sleep(settings.durationS * 1000);
    const drain = new Recorder();
    current = drain;
    const elapsedS = (drain.startedAt - rec.startedAt) / 1000;
    const window = await watch.end(rec.cycles);
    stop = true;
    await Promise.all(loops);

    const outside = warm.failed + drain.failed;
    if (outside > 0) log(`${outside} cycles failed outside the measured time, e.g. ${[...warm.samples, ...drain.samples].slice(0, 3).join(' | ')}`);
    if (rec.failed > 0) log(`measured: ${rec.failed} cycles failed, e.g. ${rec.samples.join(' | ')}`);

    const counts: CycleCounts = {
      cycles: rec.cycles,
      errors: rec.errors,
      timeouts: rec.timeouts,
      unexpected: rec.unexpected,
      badBodies: rec.badBodies,
      outsideFailures: outside,
    };
    const latency = summarize(rec.cycleMs);
    const steps = stepFigures(plan, rec);
    const statusCodes: Record<string, number> = {};
    for (const s of steps) for (const [code, n] of Object.entries(s.statusCodes)) statusCodes[`${s.step} ${code}`] = n;
    const unexpected = Object.values(rec.unexpected).reduce((a, b) => a + b, 0);
    const badBodies = Object.values(rec.badBodies).reduce((a, b) => a + b, 0);
    return {
      figures: {
        unit: 'cycle',
        rps: elapsedS > 0 ? rec.cycles / elapsedS : 0,
        p50Ms: round(latency.p50),
        p90Ms: round(latency.p90),
        p99Ms: round(latency.p99),
        maxMs: round(latency.max),
        requests: rec.cycles,
        durationS: elapsedS,
        errors: rec.errors,
        timeouts: rec.timeouts,
        non2xx: unexpected,
        mismatches: unexpected + badBodies,
        statusCodes,
        ...window,
        steps,
        facts: [
          `cycles/s in each third of the measured time: ${ratesByThird(rec.cycleEnds, elapsedS)
            .map((r) => Math.round(r).toLocaleString('en-US'))
            .join(', ')}`,
        ],
      },
      problems: cycleProblems(counts),
    };
  } finally {
    await pool.close();
  }
}
