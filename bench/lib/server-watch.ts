/**
 * The server-side figures of one measured window: CPU time of the server
 * process, its memory, and this (client) process's CPU, read from /proc
 * around the window. Shared by the fixed-load and the cycle-load drivers.
 */
import { readCpuSeconds, readLoadAvg1, readMachineTicks, readMemory, sampleRss, stealPctBetween } from './proc-stats.js';
import type { LoadResult } from './types.js';

export type WindowFigures = Pick<
  LoadResult,
  'serverCpuS' | 'serverCpuPct' | 'serverCpuUsPerReq' | 'serverPeakRssMiB' | 'serverMaxSampledRssMiB' | 'clientCpuPct' | 'loadAvgBefore' | 'stealPct'
>;

export interface ServerWatch {
  /** Ends the window; `completed` is what the window's work is counted in (requests, cycles). */
  end(completed: number): Promise<WindowFigures>;
}

const MIB = 1024;

/** Starts watching the server process `pid` now, and the load generator: this process, or `clientPid`'s where it runs apart. */
export async function watchServer(pid: number, clientPid?: number): Promise<ServerWatch> {
  const loadAvgBefore = await readLoadAvg1();
  const ticks0 = await readMachineTicks();
  const cpu0 = await readCpuSeconds(pid);
  const client0 = process.cpuUsage();
  const clientCpu0 = clientPid !== undefined ? await readCpuSeconds(clientPid) : 0;
  const rss = sampleRss(pid);
  const t0 = performance.now();
  return {
    async end(completed: number): Promise<WindowFigures> {
      const wallS = (performance.now() - t0) / 1000;
      const cpu1 = await readCpuSeconds(pid);
      const stealPct = stealPctBetween(ticks0, await readMachineTicks());
      const client = process.cpuUsage(client0);
      const clientCpuS = clientPid !== undefined ? (await readCpuSeconds(clientPid)) - clientCpu0 : (client.user + client.system) / 1e6;
      const maxRssKiB = await rss.stop();
      const mem = await readMemory(pid);
      const serverCpuS = cpu1 - cpu0;
      return {
        serverCpuS,
        serverCpuPct: (serverCpuS / wallS) * 100,
        serverCpuUsPerReq: completed > 0 ? (serverCpuS * 1e6) / completed : 0,
        serverPeakRssMiB: mem.hwmKiB / MIB,
        serverMaxSampledRssMiB: Math.max(maxRssKiB, mem.rssKiB) / MIB,
        clientCpuPct: (clientCpuS / wallS) * 100,
        loadAvgBefore,
        stealPct,
      };
    },
  };
}
