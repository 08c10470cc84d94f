/**
 * Judging figures: whether a load is clean, and how jitgate compares with
 * each peer against its target. Pure: data in, data out.
 */
import type { CaseResult, Comparison, LoadFailure, LoadResult, Target } from './types.js';

type Counts = Pick<LoadResult, 'requests' | 'errors' | 'timeouts' | 'non2xx' | 'mismatches' | 'statusCodes'>;

/** Why a load's figure cannot be reported as clean; empty when it can. */
export function loadProblems(f: Counts): string[] {
  const problems: string[] = [];
  if (f.requests === 0) problems.push('no request completed');
  if (f.errors > 0) problems.push(`${f.errors} connection errors`);
  if (f.timeouts > 0) problems.push(`${f.timeouts} timeouts`);
  if (f.non2xx > 0) {
    const codes = Object.entries(f.statusCodes)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, n]) => `${n}×${code}`)
      .join(', ');
    problems.push(`${f.non2xx} non-2xx responses (${codes})`);
  }
  const badBodies = f.mismatches - f.non2xx;
  if (badBodies > 0) problems.push(`${badBodies} 2xx responses without the expected body`);
  return problems;
}

export function describeTarget(t: Target | null): string {
  if (!t) return 'reference';
  return t.kind === 'ratio' ? `ratio ≥ ${t.min.toFixed(1)}` : `≥ ${t.min.toLocaleString('en-US')} req/s`;
}

interface Side {
  label: string;
  load: LoadResult | undefined;
  failure: LoadFailure | undefined;
}

function judge(target: Target | null, j: Side, p: Side): Pick<Comparison, 'verdict' | 'why'> {
  const missing = [j, p].find((s) => !s.load);
  if (missing) return { verdict: 'invalid', why: `${missing.label} not measured (see details): ${missing.failure?.error.split('\n')[0] ?? 'unknown'}` };
  const dirty = [j, p].find((s) => s.load!.problems.length > 0);
  if (dirty) return { verdict: 'invalid', why: `${dirty.label}: ${dirty.load!.problems.join('; ')}` };
  if (!target) return { verdict: 'reference', why: null };
  const jr = j.load!.rps;
  const ratio = jr / p.load!.rps;
  if (target.kind === 'ratio') {
    return ratio >= target.min
      ? { verdict: 'pass', why: null }
      : { verdict: 'fail', why: `ratio ${ratio.toFixed(2)} < ${target.min}` };
  }
  return jr >= target.min
    ? { verdict: 'pass', why: null }
    : { verdict: 'fail', why: `${Math.round(jr)} req/s < ${target.min}` };
}

export interface SubjectOutcome {
  serverId: string;
  label: string;
  role: 'jitgate' | 'peer';
  target: Target | null;
  load?: LoadResult;
  failure?: LoadFailure;
}

/** One comparison per (jitgate variant, peer) pair, in subject order. */
export function compare(caseName: string, outcomes: SubjectOutcome[]): Comparison[] {
  const jitgates = outcomes.filter((o) => o.role === 'jitgate');
  const peers = outcomes.filter((o) => o.role === 'peer');
  const out: Comparison[] = [];
  for (const j of jitgates) {
    for (const p of peers) {
      const js: Side = { label: j.label, load: j.load, failure: j.failure };
      const ps: Side = { label: p.label, load: p.load, failure: p.failure };
      const jitgateRps = j.load?.rps ?? null;
      const peerRps = p.load?.rps ?? null;
      out.push({
        caseName,
        jitgate: j.label,
        jitgateRps,
        peer: p.label,
        peerRps,
        ratio: jitgateRps !== null && peerRps ? jitgateRps / peerRps : null,
        target: p.target,
        ...judge(p.target, js, ps),
      });
    }
  }
  return out;
}

/** True when `--check` must fail the run: a target missed, or a figure not clean or missing. */
export function runFails(cases: CaseResult[]): boolean {
  return cases.some(
    (c) =>
      c.failures.length > 0 ||
      c.loads.some((l) => l.problems.length > 0) ||
      c.comparisons.some((cmp) => cmp.verdict === 'fail' || cmp.verdict === 'invalid'),
  );
}
