/**
 * Small pieces the composite cases share: turning figures into a judged
 * LoadResult, and recording a subject that could not be measured.
 */
import { loadProblems } from './verdict.js';
import type { LoadFailure, LoadResult, MeasureSettings } from './types.js';
import type { HttpFigures } from './http-loads.js';

/** A measured load as the report shows it; `extra` problems add to the figures' own. */
export function asLoad(
  figures: HttpFigures,
  who: { serverId: string; label: string; role: 'jitgate' | 'peer' },
  describe: string,
  extra: { problems?: string[]; facts?: string[] } = {},
): LoadResult {
  return { ...figures, ...who, problems: [...loadProblems(figures), ...(extra.problems ?? [])], describe, ...(extra.facts ? { facts: extra.facts } : {}) };
}

/** A subject that failed: its error with the tails of the processes' output. */
export async function asFailure(
  who: { serverId: string; label: string; role: 'jitgate' | 'peer' },
  err: unknown,
  outputs: { id: string; outputTail(): Promise<string> }[] = [],
): Promise<LoadFailure> {
  const tails: string[] = [];
  for (const o of outputs) {
    const tail = await o.outputTail().catch(() => '');
    if (tail) tails.push(`--- ${o.id} output (tail) ---\n${tail.split('\n').slice(-8).join('\n')}`);
  }
  return { ...who, error: [(err as Error).message ?? String(err), ...tails].join('\n') };
}

/** Figures with nothing measured by a process (in-runner rounds). */
export function emptyWindow(): Pick<
  LoadResult,
  'serverCpuS' | 'serverCpuPct' | 'serverCpuUsPerReq' | 'serverPeakRssMiB' | 'serverMaxSampledRssMiB' | 'timeouts' | 'non2xx' | 'mismatches' | 'statusCodes'
> {
  return { serverCpuS: null, serverCpuPct: null, serverCpuUsPerReq: null, serverPeakRssMiB: null, serverMaxSampledRssMiB: null, timeouts: 0, non2xx: 0, mismatches: 0, statusCodes: {} };
}

/**
 * The load settings of a composite case: as given, or in a `--quick` run at
 * most 1.5 s measured after 0.5 s of warm-up, since these cases run several
 * loads each and the quick run must stay under two minutes.
 */
export function compositeSettings(s: MeasureSettings, quick: boolean): MeasureSettings {
  return quick ? { ...s, durationS: Math.min(s.durationS, 1.5), warmupS: Math.min(s.warmupS, 0.5) } : s;
}
