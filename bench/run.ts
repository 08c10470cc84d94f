/**
 * `npm run bench`: measures jitgate against its peers on this machine, in one
 * run, and writes docs/benchmarks.md and docs/benchmarks.json. Progress goes
 * to stderr, the results table to stdout.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases/index.js';
import { measureCycles } from './lib/cycles.js';
import { measureLoad } from './lib/load.js';
import { machineFacts } from './lib/machine.js';
import { USAGE, parseOptions, type RunOptions } from './lib/options.js';
import { readLoadAvg1 } from './lib/proc-stats.js';
import { databaseTable, renderReport, resultsTable, withNotes } from './lib/report.js';
import type {
  BenchCase,
  CaseResult,
  CompositeCase,
  CycleSubject,
  InProcessCase,
  LoadResult,
  MeasureSettings,
  RunRecord,
  RunningServer,
  ServerSpec,
  StartEnv,
  Subject,
  SubjectBase,
} from './lib/types.js';
import { compare, loadProblems, rateLabel, runFails, type SubjectOutcome } from './lib/verdict.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The first line of an error and, when it quotes server output, that output's last line. */
function brief(message: string): string {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 1 ? `${lines[0]} … ${lines[lines.length - 1]}` : (lines[0] ?? '');
}

type Measured = Omit<LoadResult, 'serverId' | 'label' | 'role'>;

/** How one subject's load is driven: readies the server, measures, checks afterwards; throws when it cannot be measured. */
type Drive = (server: RunningServer, settings: MeasureSettings, tag: string) => Promise<Measured>;

function driveLoad(subject: Subject): Drive {
  return async (server, settings) => {
    const plan = await subject.prepare(server, settings);
    const figures = await measureLoad(server, plan, settings);
    const problems = loadProblems(figures);
    if (subject.verify) {
      try {
        await subject.verify(server, plan);
      } catch (err) {
        problems.push(`check after the load failed: ${(err as Error).message}`);
      }
    }
    return { ...figures, problems, describe: plan.describe };
  };
}

function driveCycles(subject: CycleSubject): Drive {
  return async (server, settings, tag) => {
    const plan = await subject.prepare(server, settings);
    const { figures, problems } = await measureCycles(server, plan, settings, (line) => log(`${tag}: ${line}`));
    if (subject.verify) {
      try {
        await subject.verify(server, plan);
      } catch (err) {
        problems.push(`check after the load failed: ${(err as Error).message}`);
      }
    }
    return { ...figures, problems, describe: plan.describe };
  };
}

const labelOf = (subject: SubjectBase) => subject.label ?? subject.server.label;

function progressLine(l: LoadResult): string {
  const cpu = l.serverCpuPct === null ? '' : `, server CPU ${l.serverCpuPct.toFixed(0)}%, peak RSS ${(l.serverPeakRssMiB ?? 0).toFixed(0)} MiB`;
  const lat = l.unit === 'decision' ? `p50 ${(l.p50Ms * 1000).toFixed(1)} µs, p99 ${(l.p99Ms * 1000).toFixed(1)} µs` : `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms`;
  return (
    `${Math.round(l.rps).toLocaleString('en-US')} ${rateLabel(l.unit)}, ${lat}${cpu}` +
    (l.problems.length ? ` — NOT CLEAN: ${l.problems.join('; ')}` : '')
  );
}

async function runSubject(c: BenchCase, subject: SubjectBase, drive: Drive, env: StartEnv, settings: MeasureSettings): Promise<SubjectOutcome> {
  const { server: spec, role } = subject;
  const label = labelOf(subject);
  const base = { serverId: spec.id, label, role, target: subject.target ?? null, ...(subject.against ? { against: subject.against } : {}) };
  const tag = `[${c.name}] ${label}`;
  log(`${tag}: starting`);
  let server;
  try {
    server = await spec.start(env);
  } catch (err) {
    log(`${tag}: did not start: ${brief((err as Error).message)}`);
    return { ...base, failure: { serverId: spec.id, label, role, error: (err as Error).message } };
  }
  try {
    const what = c.kind === 'cycles' ? `${settings.connections} workers` : `${settings.connections} connections`;
    log(`${tag}: warm-up ${settings.warmupS} s, then measuring ${settings.durationS} s with ${what}`);
    const measured = await drive(server, settings, tag);
    const load: LoadResult = { ...measured, serverId: spec.id, label, role };
    log(`${tag}: ${progressLine(load)}`);
    return { ...base, load };
  } catch (err) {
    const tail = await server.outputTail();
    const error = `${(err as Error).message}${tail ? `\n--- server output (tail) ---\n${tail}` : ''}`;
    log(`${tag}: failed: ${brief(error)}`);
    return { ...base, failure: { serverId: spec.id, label, role, error } };
  } finally {
    await server.stop().catch((err: unknown) => log(`${tag}: stopping failed: ${(err as Error).message}`));
  }
}

/** Runs an in-process case: no server, so no server CPU or memory; the process's own CPU stands where the client's would. */
async function runInProcess(c: InProcessCase, settings: MeasureSettings): Promise<SubjectOutcome> {
  const tag = `[${c.name}] ${c.label}`;
  const base = { serverId: 'in-process', label: c.label, role: 'jitgate' as const, target: c.target ?? null };
  log(`${tag}: warm-up ${settings.warmupS} s, then measuring ${settings.durationS} s`);
  try {
    const loadAvgBefore = await readLoadAvg1();
    const f = await c.measure(settings, (line) => log(`${tag}: ${line}`));
    const problems = f.count === 0 ? ['no call completed'] : [];
    if (f.errors > 0) problems.push(`${f.errors} calls threw`);
    const load: LoadResult = {
      serverId: 'in-process',
      label: c.label,
      role: 'jitgate',
      unit: c.unit,
      rps: f.rate,
      p50Ms: f.p50Ms,
      p90Ms: f.p90Ms,
      p99Ms: f.p99Ms,
      maxMs: f.maxMs,
      requests: f.count,
      durationS: f.durationS,
      errors: f.errors,
      timeouts: 0,
      non2xx: 0,
      mismatches: 0,
      statusCodes: {},
      serverCpuS: null,
      serverCpuPct: null,
      serverCpuUsPerReq: null,
      serverPeakRssMiB: null,
      serverMaxSampledRssMiB: null,
      clientCpuPct: f.cpuPct,
      loadAvgBefore,
      problems,
      describe: f.describe,
      facts: f.facts,
    };
    log(`${tag}: ${progressLine(load)}`);
    return { ...base, load };
  } catch (err) {
    log(`${tag}: failed: ${brief((err as Error).message)}`);
    return { ...base, failure: { serverId: 'in-process', label: c.label, role: 'jitgate', error: (err as Error).message } };
  }
}

/** Servers the composite cases described, by label, for the report's server list. */
const compositeServers = new Map<string, string>();

/** Runs a composite case: it starts, drives and judges everything itself. */
async function runComposite(c: CompositeCase, opts: RunOptions, env: StartEnv, settings: MeasureSettings): Promise<CaseResult> {
  const base = { name: c.name, summary: c.summary };
  try {
    const o = await c.run({ env, settings, pg: opts.pg, quick: opts.quick, log: (line) => log(`[${c.name}] ${line}`) });
    for (const s of o.servers ?? []) compositeServers.set(s.label, s.describe);
    for (const f of o.failures) log(`[${c.name}] ${f.label}: failed: ${brief(f.error)}`);
    return { ...base, loads: o.loads, failures: o.failures, subjectNotes: o.subjectNotes ?? [], comparisons: o.comparisons, ...(o.tables ? { tables: o.tables } : {}) };
  } catch (err) {
    log(`[${c.name}] failed: ${brief((err as Error).message)}`);
    return { ...base, loads: [], failures: [{ serverId: c.name, label: c.name, role: 'jitgate', error: (err as Error).message }], subjectNotes: [], comparisons: [] };
  }
}

async function runCase(c: BenchCase, opts: RunOptions, env: StartEnv): Promise<CaseResult> {
  const settings: MeasureSettings = { durationS: opts.durationS, warmupS: opts.warmupS, connections: opts.connections };
  if (c.kind === 'composite') return runComposite(c, opts, env, settings);
  const outcomes: SubjectOutcome[] = [];
  let notes: SubjectBase[] = [];
  if (c.kind === 'in-process') {
    outcomes.push(await runInProcess(c, settings));
  } else if (c.kind === 'cycles') {
    const subjects = c.subjects({ pg: opts.pg });
    notes = subjects;
    for (const s of subjects) outcomes.push(await runSubject(c, s, driveCycles(s), env, settings));
  } else {
    const subjects = c.subjects({ pg: opts.pg });
    notes = subjects;
    for (const s of subjects) outcomes.push(await runSubject(c, s, driveLoad(s), env, settings));
  }
  const unit = c.kind === 'in-process' ? c.unit : c.kind === 'cycles' ? 'cycle' : 'request';
  return {
    name: c.name,
    summary: c.summary,
    loads: outcomes.flatMap((o) => (o.load ? [o.load] : [])),
    failures: outcomes.flatMap((o) => (o.failure ? [o.failure] : [])),
    subjectNotes: notes.flatMap((s) => (s.note ? [{ label: labelOf(s), note: s.note }] : [])),
    comparisons: compare(c.name, outcomes, unit),
  };
}

/** The servers a case starts (none for an in-process case). */
function serversOf(c: BenchCase, pg: boolean): ServerSpec[] {
  return c.kind === 'in-process' || c.kind === 'composite' ? [] : c.subjects({ pg }).map((s) => s.server);
}

async function writeReport(outPath: string, run: RunRecord): Promise<void> {
  const mdPath = resolve(ROOT, outPath);
  const jsonPath = mdPath.replace(/\.md$/, '') + '.json';
  await mkdir(dirname(mdPath), { recursive: true });
  const existing = await readFile(mdPath, 'utf8').catch(() => null);
  await writeFile(mdPath, withNotes(renderReport(run), existing));
  await writeFile(jsonPath, `${JSON.stringify(run, null, 2)}\n`);
  log(`wrote ${mdPath} and ${jsonPath}`);
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), CASES.map((c) => c.name));
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = performance.now();
  const machine = machineFacts(ROOT, new Date());
  const selected = CASES.filter((c) => !opts.only || opts.only.includes(c.name));
  const workDir = await mkdtemp(join(tmpdir(), 'jitgate-bench-'));
  const env: StartEnv = { workDir, rootDir: ROOT, pgUrl: opts.pgUrl };
  log(`jitgate bench: ${selected.map((c) => c.name).join(', ')} on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}`);

  const cases: CaseResult[] = [];
  try {
    for (const c of selected) cases.push(await runCase(c, opts, env));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  const servers = new Map<string, ServerSpec>();
  for (const c of selected) for (const s of serversOf(c, opts.pg)) servers.set(s.id, s);
  const run: RunRecord = {
    machine,
    settings: {
      quick: opts.quick,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      connections: opts.connections,
      only: opts.only,
      pg: opts.pg,
    },
    servers: [
      ...[...servers.values()].map((s) => ({ label: s.label, describe: s.describe })),
      ...[...compositeServers].filter(([label]) => ![...servers.values()].some((s) => s.label === label)).map(([label, describe]) => ({ label, describe })),
    ],
    cases,
    totalS: (performance.now() - started) / 1000,
  };

  process.stdout.write(`\n${resultsTable(cases)}\n\n`);
  const byDatabase = databaseTable(cases);
  if (byDatabase) process.stdout.write(`${byDatabase}\n\n`);
  if (opts.out) await writeReport(opts.out, run);
  log(`done in ${run.totalS.toFixed(0)} s`);

  const notMeasured = cases.some((c) => c.failures.length > 0);
  if (opts.check && runFails(cases)) {
    log('check failed: a target was missed or a figure is not clean');
    return 1;
  }
  return notMeasured ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`bench: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
    if (e.code === 'bench_usage') process.stderr.write(USAGE);
    process.exitCode = 2;
  },
);
