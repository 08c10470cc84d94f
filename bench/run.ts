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
import { measureLoad, type LoadSettings } from './lib/load.js';
import { machineFacts } from './lib/machine.js';
import { USAGE, parseOptions, type RunOptions } from './lib/options.js';
import { renderReport, resultsTable, withNotes } from './lib/report.js';
import type { BenchCase, CaseResult, LoadResult, RunRecord, ServerSpec, StartEnv, Subject } from './lib/types.js';
import { compare, loadProblems, runFails, type SubjectOutcome } from './lib/verdict.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The first line of an error and, when it quotes server output, that output's last line. */
function brief(message: string): string {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 1 ? `${lines[0]} … ${lines[lines.length - 1]}` : (lines[0] ?? '');
}

async function runSubject(c: BenchCase, subject: Subject, env: StartEnv, settings: LoadSettings): Promise<SubjectOutcome> {
  const { server: spec, role } = subject;
  const base = { serverId: spec.id, label: spec.label, role, target: subject.target ?? null };
  const tag = `[${c.name}] ${spec.label}`;
  log(`${tag}: starting`);
  let server;
  try {
    server = await spec.start(env);
  } catch (err) {
    log(`${tag}: did not start: ${brief((err as Error).message)}`);
    return { ...base, failure: { serverId: spec.id, label: spec.label, role, error: (err as Error).message } };
  }
  try {
    const plan = await subject.prepare(server);
    log(`${tag}: warm-up ${settings.warmupS} s, then measuring ${settings.durationS} s with ${settings.connections} connections`);
    const figures = await measureLoad(server, plan, settings);
    const problems = loadProblems(figures);
    if (subject.verify) {
      try {
        await subject.verify(server, plan);
      } catch (err) {
        problems.push(`check after the load failed: ${(err as Error).message}`);
      }
    }
    const load: LoadResult = { ...figures, serverId: spec.id, label: spec.label, role, problems, describe: plan.describe };
    log(
      `${tag}: ${Math.round(load.rps).toLocaleString('en-US')} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, ` +
        `server CPU ${load.serverCpuPct.toFixed(0)}%, peak RSS ${load.serverPeakRssMiB.toFixed(0)} MiB` +
        (problems.length ? ` — NOT CLEAN: ${problems.join('; ')}` : ''),
    );
    return { ...base, load };
  } catch (err) {
    const tail = await server.outputTail();
    const error = `${(err as Error).message}${tail ? `\n--- server output (tail) ---\n${tail}` : ''}`;
    log(`${tag}: failed: ${brief(error)}`);
    return { ...base, failure: { serverId: spec.id, label: spec.label, role, error } };
  } finally {
    await server.stop().catch((err: unknown) => log(`${tag}: stopping failed: ${(err as Error).message}`));
  }
}

async function runCase(c: BenchCase, opts: RunOptions, env: StartEnv): Promise<CaseResult> {
  const settings: LoadSettings = { durationS: opts.durationS, warmupS: opts.warmupS, connections: opts.connections };
  const subjects = c.subjects({ pg: opts.pg });
  const outcomes: SubjectOutcome[] = [];
  for (const subject of subjects) outcomes.push(await runSubject(c, subject, env, settings));
  return {
    name: c.name,
    summary: c.summary,
    loads: outcomes.flatMap((o) => (o.load ? [o.load] : [])),
    failures: outcomes.flatMap((o) => (o.failure ? [o.failure] : [])),
    subjectNotes: subjects.flatMap((s) => (s.note ? [{ label: s.server.label, note: s.note }] : [])),
    comparisons: compare(c.name, outcomes),
  };
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
  for (const c of selected) for (const s of c.subjects({ pg: opts.pg })) servers.set(s.server.id, s.server);
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
    servers: [...servers.values()].map((s) => ({ label: s.label, describe: s.describe })),
    cases,
    totalS: (performance.now() - started) / 1000,
  };

  process.stdout.write(`\n${resultsTable(cases)}\n\n`);
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
