/**
 * One measured load: a warm-up, then autocannon from this process against the
 * server process, with the server's CPU time and memory read from /proc.
 */
import autocannon from 'autocannon';
import { readCpuSeconds, readLoadAvg1, readMemory, sampleRss } from './proc-stats.js';
import type { LoadPlan, LoadResult, RunningServer } from './types.js';

export interface LoadSettings {
  durationS: number;
  warmupS: number;
  connections: number;
}

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

const MIB = 1024;

/** Warms the server up, then measures it for `durationS` seconds. */
export async function measureLoad(server: RunningServer, plan: LoadPlan, settings: LoadSettings): Promise<Figures> {
  if (settings.warmupS > 0) await fire(plan, settings.warmupS, settings.connections);

  const loadAvgBefore = await readLoadAvg1();
  const cpu0 = await readCpuSeconds(server.pid);
  const client0 = process.cpuUsage();
  const rss = sampleRss(server.pid);
  const t0 = performance.now();

  const result = await fire(plan, settings.durationS, settings.connections);

  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = await readCpuSeconds(server.pid);
  const client = process.cpuUsage(client0);
  const maxRssKiB = await rss.stop();
  const mem = await readMemory(server.pid);

  const requests = result['2xx'] + result.non2xx;
  const serverCpuS = cpu1 - cpu0;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) statusCodes[code] = stat.count;
  return {
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
    serverCpuS,
    serverCpuPct: (serverCpuS / wallS) * 100,
    serverCpuUsPerReq: requests > 0 ? (serverCpuS * 1e6) / requests : 0,
    serverPeakRssMiB: mem.hwmKiB / MIB,
    serverMaxSampledRssMiB: Math.max(maxRssKiB, mem.rssKiB) / MIB,
    clientCpuPct: ((client.user + client.system) / 1e3 / (wallS * 1000)) * 100,
    loadAvgBefore,
  };
}
