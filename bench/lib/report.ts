/**
 * Renders a run as docs/benchmarks.md. Pure: the run record (and the current
 * file, for its hand-written notes) in, markdown out.
 */
import { describeTarget, rateLabel } from './verdict.js';
import type { CaseResult, Comparison, LoadResult, RateUnit, RunRecord } from './types.js';

/** Everything from this marker to the end of the file is hand-written and kept across runs. */
export const NOTES_MARKER = '<!-- notes -->';

const DEFAULT_NOTES = `${NOTES_MARKER}
## Notes

Hand-written notes go below the marker above; \`bench/run.ts\` keeps them when it regenerates this file.
`;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
const mib = (n: number) => `${n.toFixed(0)} MiB`;

function verdictCell(c: Comparison): string {
  switch (c.verdict) {
    case 'pass':
      if (c.why) return `**pass** (${c.why})`;
      return c.target?.kind === 'p99' && typeof c.p99Ms === 'number' ? `**pass** (p99 ${Number(c.p99Ms.toFixed(3))} ms)` : '**pass**';
    case 'fail':
      return `**FAIL** (${c.why})`;
    case 'reference':
      return '—';
    case 'invalid':
      return `**INVALID** (${c.why})`;
  }
}

/** A rate as a cell: the bare number for requests (the column's unit), the unit written out otherwise. */
function rateCell(rps: number, unit: RateUnit | undefined): string {
  return unit && unit !== 'request' ? `${int(rps)} ${rateLabel(unit)}` : int(rps);
}

function flagged(l: LoadResult | undefined, rps: number | null, unit?: RateUnit): string {
  if (rps === null) return 'not measured';
  const figure = rateCell(rps, unit);
  return l && l.problems.length > 0 ? `${figure} ⚠` : figure;
}

/** The summary table: one row per (case, jitgate variant, peer), and one per jitgate figure judged on its own. */
export function resultsTable(cases: CaseResult[]): string {
  const rows = [
    '| case | jitgate | req/s | peer | peer req/s | ratio | target | result |',
    '| --- | --- | ---: | --- | ---: | ---: | --- | --- |',
  ];
  for (const c of cases) {
    for (const cmp of c.comparisons) {
      const jl = c.loads.find((l) => l.label === cmp.jitgate);
      const pl = cmp.peer === null ? undefined : c.loads.find((l) => l.label === cmp.peer);
      const peerCells = cmp.peer === null ? '— | —' : `${cmp.peer} | ${flagged(pl, cmp.peerRps, cmp.unit)}`;
      rows.push(
        `| ${c.name} | ${cmp.jitgate} | ${flagged(jl, cmp.jitgateRps, cmp.unit)} | ${peerCells} | ` +
          `${cmp.ratio === null ? '—' : `${cmp.ratio.toFixed(2)}×`} | ${cmp.targetText ?? describeTarget(cmp.target, cmp.unit)} | ${verdictCell(cmp)} |`,
      );
    }
  }
  return rows.join('\n');
}

/**
 * jitgate on SQLite and on PostgreSQL side by side: one row per load measured
 * on both (a label naming SQLite with a twin naming PostgreSQL); null when
 * the run has no such pair (no `--pg`).
 */
export function databaseTable(cases: CaseResult[]): string | null {
  const rows = [
    '| case | measured | SQLite | PostgreSQL | PostgreSQL ÷ SQLite | p99 ms SQLite | p99 ms PostgreSQL | CPU µs/unit SQLite | CPU µs/unit PostgreSQL |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    for (const lite of c.loads) {
      if (!lite.label.includes('SQLite')) continue;
      const pg = c.loads.find((l) => l.label === lite.label.replace('SQLite', 'PostgreSQL'));
      if (!pg) continue;
      const cell = (l: LoadResult) => `${rateCell(l.rps, l.unit ?? 'request')}${l.unit === undefined || l.unit === 'request' ? ' req/s' : ''}${l.problems.length ? ' ⚠' : ''}`;
      const cpu = (l: LoadResult) => orDash(l.serverCpuUsPerReq, (n) => n.toFixed(0));
      rows.push(
        `| ${c.name} | ${lite.label.replace(/ ?\(SQLite\)/, '').replace(/,? ?SQLite/, '') || 'jitgate'} | ${cell(lite)} | ${cell(pg)} | ` +
          `${lite.rps > 0 ? `${(pg.rps / lite.rps).toFixed(2)}×` : '—'} | ${ms(lite.p99Ms)} | ${ms(pg.p99Ms)} | ${cpu(lite)} | ${cpu(pg)} |`,
      );
    }
  }
  return rows.length > 2 ? rows.join('\n') : null;
}

/** Column words and latency scale of each unit. */
const UNIT_COLUMNS: Record<RateUnit, { count: string; per: string; subject: string; latency: 'ms' | 'µs'; failures: string }> = {
  request: { count: 'requests', per: 'req', subject: 'server', latency: 'ms', failures: 'errors / non-2xx' },
  cycle: { count: 'cycles', per: 'cycle', subject: 'server', latency: 'ms', failures: 'failed cycles' },
  decision: { count: 'decisions', per: 'decision', subject: 'measured', latency: 'µs', failures: 'errors' },
  event: { count: 'events', per: 'event', subject: 'measured', latency: 'ms', failures: 'errors' },
};

const orDash = (n: number | null, f: (n: number) => string) => (n === null ? '—' : f(n));

function detailTable(c: CaseResult): string {
  const unit = c.loads[0]?.unit ?? 'request';
  const u = UNIT_COLUMNS[unit];
  const lat = (n: number) => (u.latency === 'µs' ? (n * 1000).toFixed(1) : ms(n));
  const rows = [
    `| ${u.subject} | ${rateLabel(unit)} | p50 ${u.latency} | p90 ${u.latency} | p99 ${u.latency} | max ${u.latency} | ${u.count} | ` +
      `server CPU | CPU µs/${u.per} | server peak RSS | ${unit === 'decision' ? 'CPU' : 'client CPU'} | ${u.failures} |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const l of c.loads) {
    const clean = l.problems.length === 0 ? '0' : `⚠ ${l.problems.join('; ')}`;
    const cpu = l.serverCpuS === null || l.serverCpuPct === null ? '—' : `${l.serverCpuS.toFixed(1)} s (${l.serverCpuPct.toFixed(0)}%)`;
    rows.push(
      `| ${l.label} | ${int(l.rps)} | ${lat(l.p50Ms)} | ${lat(l.p90Ms)} | ${lat(l.p99Ms)} | ${lat(l.maxMs)} | ${int(l.requests)} | ` +
        `${cpu} | ${orDash(l.serverCpuUsPerReq, (n) => n.toFixed(0))} | ` +
        `${orDash(l.serverPeakRssMiB, mib)} | ${l.clientCpuPct.toFixed(0)}% | ${clean} |`,
    );
  }
  return rows.join('\n');
}

/** Per-step figures of the cycle loads of a case: every response of the measured time. */
function stepTable(c: CaseResult): string | null {
  const withSteps = c.loads.filter((l) => l.steps?.length);
  if (withSteps.length === 0) return null;
  const rows = ['| server | step | good responses | p50 ms | p99 ms | max ms | statuses |', '| --- | --- | ---: | ---: | ---: | ---: | --- |'];
  for (const l of withSteps) {
    for (const s of l.steps ?? []) {
      const statuses = Object.entries(s.statusCodes)
        .map(([code, n]) => `${code}×${int(n)}`)
        .join(', ');
      rows.push(`| ${l.label} | ${s.step} | ${int(s.ok)} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${ms(s.maxMs)} | ${statuses || '—'} |`);
    }
  }
  return rows.join('\n');
}

function caseDetails(c: CaseResult): string {
  const parts = [`### ${c.name}`, '', c.summary, ''];
  const requests = [...new Set(c.loads.map((l) => `- ${l.label}: \`${l.describe}\``))];
  const unit = c.loads[0]?.unit ?? 'request';
  if (requests.length) parts.push(unit === 'cycle' ? 'Cycles:' : unit === 'decision' ? 'Calls:' : 'Requests:', '', ...requests, '');
  if (c.loads.length) parts.push(detailTable(c), '');
  for (const t of c.tables ?? []) parts.push(t, '');
  const steps = stepTable(c);
  if (steps) parts.push('Steps of the measured cycles:', '', steps, '');
  const withFacts = c.loads.filter((l) => l.facts?.length);
  for (const l of withFacts) {
    const prefix = withFacts.length > 1 ? `${l.label}: ` : '';
    parts.push(...(l.facts ?? []).map((f) => `- ${prefix}${f}`), '');
  }
  for (const f of c.failures) {
    parts.push(`**${f.label} was not measured:**`, '', '```', f.error.trim(), '```', '');
  }
  for (const n of c.subjectNotes) parts.push(`Note on ${n.label}: ${n.note}`, '');
  const loadAvg = c.loads.map((l) => `${l.label} ${l.loadAvgBefore.toFixed(2)}`).join(', ');
  if (loadAvg) parts.push(`1-minute load average before each measured load: ${loadAvg}.`, '');
  const steal = c.loads.filter((l) => l.stealPct !== undefined).map((l) => `${l.label} ${l.stealPct!.toFixed(1)}%`).join(', ');
  if (steal) parts.push(`CPU time the hypervisor gave to other guests during each measured load (steal): ${steal}.`, '');
  return parts.join('\n');
}

/** Method bullets for the kinds of case beyond fixed loads, when the run has them. */
function methodExtras(run: RunRecord): string {
  const units = new Set(run.cases.flatMap((c) => c.loads.map((l) => l.unit ?? 'request')));
  const lines: string[] = [];
  if (units.has('cycle')) {
    lines.push(
      '- Cycle cases run as many workers as connections, each repeating a dependent sequence of requests on one',
      '  undici keep-alive pool in the runner process, without a break from the warm-up through the measured time.',
      '  cycles/s is the cycles completed inside the measured time over its length; latencies are of those whole',
      '  cycles, and per step (every response inside the measured time) in a second table. Any unexpected status',
      '  or body fails the cycle and flags the figure, in the warm-up and in the drain after the measured time',
      '  too. Before the warm-up one cycle must succeed, or the server is not measured.',
    );
  }
  if (units.has('decision')) {
    lines.push(
      '- In-process cases run in the runner process with no server: each call is timed on its own after the',
      '  warm-up; their CPU column is the runner\'s own CPU over the measured time.',
    );
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function sideBySide(cases: CaseResult[]): string {
  const t = databaseTable(cases);
  return t
    ? `\nThe same loads on SQLite and on PostgreSQL (\`--pg\`), each on a fresh server of its own. CPU is the jitgate ` +
        `process's alone: PostgreSQL's own server processes are not counted.\n\n${t}\n`
    : '';
}

/** The generated part of docs/benchmarks.md (everything above the notes marker). */
export function renderReport(run: RunRecord): string {
  const m = run.machine;
  const s = run.settings;
  const hasCycles = run.cases.some((c) => c.loads.some((l) => l.unit === 'cycle'));
  const commit = `${m.gitCommit.slice(0, 12)}${m.gitDirty ? ' (with uncommitted changes)' : ''}`;
  const mode = [
    s.quick ? 'quick run (`--quick`)' : 'standard run',
    s.only ? `only ${s.only.join(', ')}` : null,
    s.pg ? 'with PostgreSQL variants' : null,
  ]
    .filter(Boolean)
    .join(', ');
  return `# Benchmarks

<!-- Generated by bench/run.ts. Do not edit above the notes marker: the next run rewrites it. -->

Generated by \`bench/run.ts\`; the figures are also in \`docs/benchmarks.json\`. Hand-written notes go in the
Notes section at the end, which the generator keeps.

Reproduce on a quiet machine with \`npm run bench\` (add \`-- --pg\` for jitgate on PostgreSQL, \`-- --check\` to
exit non-zero when a target is missed). \`npm run bench:quick\` finishes in under two minutes and prints the
same tables without writing this file unless given \`--out\`. Other options: \`--only NAME[,NAME]\`,
\`--duration S\`, \`--warmup S\`, \`--connections N\`, \`--pg-url URL\`.

${
    s.quick || s.only || s.durationS < 10
      ? `> **Indicative only:** ${mode}, ${s.durationS} s measured per load. Figures for the record come from a
> full \`npm run bench\` on an otherwise idle machine.

`
      : ''
  }## Machine

| | |
| --- | --- |
| CPU | ${m.cpuModel}, ${m.cores} cores |
| Memory | ${m.memoryGiB.toFixed(1)} GiB |
| Node.js | ${m.node} |
| OS | ${m.os} |
| Date | ${m.date} |
| Commit | ${commit} |
| Load | ${m.loadGenerator}; ${s.connections} connections, pipelining 1, ${s.warmupS} s warm-up then ${s.durationS} s measured per load${
    hasCycles ? `; cycle cases: ${s.connections} workers on one undici keep-alive pool` : ''
  } |
| Run | ${mode}, ${run.totalS.toFixed(0)} s in all |

## Results

${resultsTable(run.cases)}
${sideBySide(run.cases)}
ratio = jitgate req/s ÷ peer req/s; where a cell names another unit (cycles/s, decisions/s), the rates are of
that unit. ⚠ marks a figure from a load with errors, timeouts, non-2xx (or unexpected) responses or unexpected
bodies: it never counts as a pass.

## Method

- Every server runs as its own Node.js process (\`NODE_ENV=production\`), started fresh for each measured load,
  listening on 127.0.0.1. The load generator runs in the runner process on the same machine, so client and
  server share the ${m.cores} cores the same way for jitgate and for every peer; the client's own CPU share is
  in the details.
- Each load is preceded by a warm-up with the same requests. req/s is the mean of the per-second counts;
  latencies are of 2xx responses.
- Server CPU is user + system time of the server process during the measured load (\`/proc/PID/stat\`),
  also per request; peak RSS is the process's VmHWM (\`/proc/PID/status\`) at the end of the load.
- Before a load each server is checked to answer as the comparison assumes (an ES256 JWT from the token
  endpoint; \`"active":true\` for every pooled token at introspection); during the load every response body
  is checked too.
${methodExtras(run)}
Servers:

${run.servers.map((sv) => `- ${sv.label}: ${sv.describe}`).join('\n')}

## Details

${run.cases.map(caseDetails).join('\n')}`;
}

/** The whole file: the generated report, then the notes section of `existing` (or a fresh one). */
export function withNotes(generated: string, existing: string | null): string {
  const at = existing?.indexOf(NOTES_MARKER) ?? -1;
  const notes = existing && at >= 0 ? existing.slice(at) : DEFAULT_NOTES;
  return `${generated.trimEnd()}\n\n${notes}`;
}
