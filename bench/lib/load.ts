/**
 * One measured load: a warm-up, then autocannon from this process against the
 * server process, with the server's CPU time and memory read from /proc.
 */
import autocannon from 'autocannon';
import { watchServer } from './server-watch.js';
import type { LoadPlan, LoadResult, MeasureSettings, RunningServer } from './types.js';

/** Duration, warm-up and connections of one fixed load. */
export type LoadSettings = MeasureSettings;

type Figures = Omit<LoadResult, 'serverId' | 'label' | 'role' | 'problems' | 'describe'>;

function fire(plan: LoadPlan, durationS: number, connections: number) {
  const expected = plan.expectBody;
  return autocannon({
    url: plan.url,
    method: plan.method,
    headers: plan.headers,
    requests: plan.bodies.map((body) => ({ body })),
    connections,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
    verifyBody: (body) => body.includes(expected),
  });
}

/** Warms the server up, then measures it for `durationS` seconds. */
export async function measureLoad(server: RunningServer, plan: LoadPlan, settings: LoadSettings): Promise<Figures> {
  if (settings.warmupS > 0) await fire(plan, settings.warmupS, settings.connections);

  const watch = await watchServer(server.pid);
  const result = await fire(plan, settings.durationS, settings.connections);
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
