/**
 * Judging figures: whether a load is clean, and how jitgate compares with
 * each peer against its target. Pure: data in, data out.
 */
import type { CaseResult, Comparison, LoadFailure, LoadResult, RateUnit, Target } from './types.js';

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

/** The counts a cycle load keeps (bench/lib/cycles.ts). */
export interface CycleCounts {
  /** Cycles completed in the measured time. */
  cycles: number;
  /** Cycles ended by a connection error. */
  errors: number;
  /** Cycles ended by a request timing out. */
  timeouts: number;
  /** Responses with a status their step does not expect, by `step status`. */
  unexpected: Record<string, number>;
  /** Responses of the expected status whose body was not what the step needs, by step. */
  badBodies: Record<string, number>;
  /** Cycles that failed, for any reason, during the warm-up or while the last ones drained after the measured time. */
  outsideFailures: number;
}

/** Why a cycle load's figure cannot be reported as clean; empty when it can. */
export function cycleProblems(f: CycleCounts): string[] {
  const problems: string[] = [];
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, n]) => `${n}×${k}`)
      .join(', ');
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  if (f.cycles === 0) problems.push('no cycle completed');
  if (f.errors > 0) problems.push(`${f.errors} connection errors`);
  if (f.timeouts > 0) problems.push(`${f.timeouts} timeouts`);
  const unexpected = sum(f.unexpected);
  if (unexpected > 0) problems.push(`${unexpected} unexpected statuses (${list(f.unexpected)})`);
  const bad = sum(f.badBodies);
  if (bad > 0) problems.push(`${bad} responses without the expected body (${list(f.badBodies)})`);
  if (f.outsideFailures > 0) problems.push(`${f.outsideFailures} cycles failed outside the measured time`);
  return problems;
}

const RATE: Record<RateUnit, string> = { request: 'req/s', cycle: 'cycles/s', decision: 'decisions/s', event: 'events/s' };

/** How a rate in `unit` is written: `req/s`, `cycles/s`, `decisions/s`. */
export function rateLabel(unit: RateUnit = 'request'): string {
  return RATE[unit];
}

export function describeTarget(t: Target | null, unit: RateUnit = 'request'): string {
  if (!t) return 'reference';
  if (t.kind === 'ratio') return `ratio ≥ ${t.min.toFixed(1)}`;
  if (t.kind === 'p99') return `p99 < ${t.maxMs} ms`;
  return `≥ ${t.min.toLocaleString('en-US')} ${rateLabel(unit)}`;
}

interface Side {
  label: string;
  load: LoadResult | undefined;
  failure: LoadFailure | undefined;
}

/** Judges jitgate's figure against a target, with the peer's when there is one (`p` null: judged alone). */
function judge(target: Target | null, j: Side, p: Side | null, unit: RateUnit): Pick<Comparison, 'verdict' | 'why'> {
  const sides = p ? [j, p] : [j];
  const missing = sides.find((s) => !s.load);
  if (missing) return { verdict: 'invalid', why: `${missing.label} not measured (see details): ${missing.failure?.error.split('\n')[0] ?? 'unknown'}` };
  const dirty = sides.find((s) => s.load!.problems.length > 0);
  if (dirty) return { verdict: 'invalid', why: `${dirty.label}: ${dirty.load!.problems.join('; ')}` };
  if (!target) return { verdict: 'reference', why: null };
  const jr = j.load!.rps;
  if (target.kind === 'p99') {
    const p99 = j.load!.p99Ms;
    return p99 < target.maxMs ? { verdict: 'pass', why: null } : { verdict: 'fail', why: `p99 ${Number(p99.toFixed(3))} ms ≥ ${target.maxMs} ms` };
  }
  if (target.kind === 'ratio') {
    if (!p) return { verdict: 'invalid', why: 'a ratio target needs a peer' };
    const ratio = jr / p.load!.rps;
    return ratio >= target.min
      ? { verdict: 'pass', why: null }
      : { verdict: 'fail', why: `ratio ${ratio.toFixed(2)} < ${target.min}` };
  }
  return jr >= target.min
    ? { verdict: 'pass', why: null }
    : { verdict: 'fail', why: `${Math.round(jr)} ${rateLabel(unit)} < ${target.min}` };
}

export interface SubjectOutcome {
  serverId: string;
  label: string;
  role: 'jitgate' | 'peer';
  target: Target | null;
  /** On a peer: the jitgate server ids it is compared with; all when left out. */
  against?: string[];
  load?: LoadResult;
  failure?: LoadFailure;
}

/**
 * One comparison per jitgate subject with a target of its own (judged alone),
 * then one per (jitgate variant, peer) pair, in subject order.
 */
/** Server id of jitgate on PostgreSQL (bench/lib/servers.ts). */
const POSTGRES_SUBJECT_ID = 'jitgate-pg';

export function compare(caseName: string, outcomes: SubjectOutcome[], unit: RateUnit = 'request'): Comparison[] {
  const jitgates = outcomes.filter((o) => o.role === 'jitgate');
  const peers = outcomes.filter((o) => o.role === 'peer');
  const out: Comparison[] = [];
  for (const j of jitgates) {
    // The issues set their targets on the embedded default (SQLite); jitgate on
    // PostgreSQL is measured beside it as a reference, not judged.
    const judged = j.serverId !== POSTGRES_SUBJECT_ID;
    const js: Side = { label: j.label, load: j.load, failure: j.failure };
    const jitgateRps = j.load?.rps ?? null;
    const p99 = j.target?.kind === 'p99' ? { p99Ms: j.load?.p99Ms ?? null } : {};
    if (j.target && judged) {
      out.push({
        caseName,
        jitgate: j.label,
        jitgateRps,
        peer: null,
        peerRps: null,
        unit,
        ...p99,
        ratio: null,
        target: j.target,
        ...judge(j.target, js, null, unit),
      });
    }
    for (const p of peers) {
      if (p.against && !p.against.includes(j.serverId)) continue;
      const ps: Side = { label: p.label, load: p.load, failure: p.failure };
      const peerRps = p.load?.rps ?? null;
      out.push({
        caseName,
        jitgate: j.label,
        jitgateRps,
        peer: p.label,
        peerRps,
        unit,
        ratio: jitgateRps !== null && peerRps ? jitgateRps / peerRps : null,
        target: judged ? p.target : null,
        ...judge(judged ? p.target : null, js, ps, unit),
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
