import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, loadProblems, runFails, type SubjectOutcome } from '../../bench/lib/verdict.js';
import { NOTES_MARKER, resultsTable, withNotes } from '../../bench/lib/report.js';
import { parseMachineTicks, parseStatCpuTicks, parseStatusMemory, stealPctBetween } from '../../bench/lib/proc-stats.js';
import { parseOptions } from '../../bench/lib/options.js';
import type { CaseResult, LoadResult } from '../../bench/lib/types.js';

function load(label: string, role: 'jitgate' | 'peer', rps: number, over: Partial<LoadResult> = {}): LoadResult {
  const base: LoadResult = {
    serverId: label, label, role, rps, p50Ms: 1, p90Ms: 2, p99Ms: 3, maxMs: 4, requests: rps * 5, durationS: 5,
    errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, statusCodes: { '200': rps * 5 }, serverCpuS: 1,
    serverCpuPct: 20, serverCpuUsPerReq: 40, serverPeakRssMiB: 100, serverMaxSampledRssMiB: 90, clientCpuPct: 50,
    loadAvgBefore: 0.1, problems: [], describe: 'POST /token',
  };
  const merged = { ...base, ...over };
  return { ...merged, problems: loadProblems(merged) };
}

function outcome(l: LoadResult, target: SubjectOutcome['target'] = null): SubjectOutcome {
  return { serverId: l.serverId, label: l.label, role: l.role, target, load: l };
}

test('a load with errors, non-2xx or wrong bodies is never clean', () => {
  assert.deepEqual(loadProblems(load('j', 'jitgate', 100)), []);
  const dirty = load('j', 'jitgate', 100, { errors: 2, non2xx: 3, mismatches: 5, statusCodes: { '200': 497, '401': 3 } });
  assert.deepEqual(dirty.problems, ['2 connection errors', '3 non-2xx responses (3×401)', '2 2xx responses without the expected body']);
  assert.deepEqual(loadProblems({ requests: 0, errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, statusCodes: {} }), ['no request completed']);
});

test('ratio and absolute targets pass, fail, or stay reference; a dirty figure is invalid', () => {
  const j = load('jitgate', 'jitgate', 12_000);
  const [ratioPass] = compare('c', [outcome(j), outcome(load('p', 'peer', 3_000), { kind: 'ratio', min: 4 })]);
  assert.equal(ratioPass?.verdict, 'pass');
  assert.equal(ratioPass?.ratio, 4);
  const [ratioFail] = compare('c', [outcome(j), outcome(load('p', 'peer', 3_001), { kind: 'ratio', min: 4 })]);
  assert.equal(ratioFail?.verdict, 'fail');
  const [absFail, reference] = compare('c', [
    outcome(load('jitgate', 'jitgate', 9_999)),
    outcome(load('ceiling', 'peer', 30_000), { kind: 'absolute', min: 10_000 }),
    outcome(load('other', 'peer', 1_000)),
  ]);
  assert.equal(absFail?.verdict, 'fail');
  assert.equal(reference?.verdict, 'reference');
  const [invalid] = compare('c', [
    outcome(load('jitgate', 'jitgate', 50_000, { timeouts: 1 })),
    outcome(load('p', 'peer', 1_000), { kind: 'ratio', min: 4 }),
  ]);
  assert.equal(invalid?.verdict, 'invalid');
  const [missing] = compare('c', [
    { serverId: 'j', label: 'jitgate', role: 'jitgate', target: null, failure: { serverId: 'j', label: 'jitgate', role: 'jitgate', error: 'exited' } },
    outcome(load('p', 'peer', 1_000), { kind: 'ratio', min: 4 }),
  ]);
  assert.equal(missing?.verdict, 'invalid');
  assert.match(missing?.why ?? '', /jitgate not measured \(see details\): exited/);
});

test('--check fails on a missed target and on a reference comparison with a dirty figure', () => {
  const caseOf = (outcomes: SubjectOutcome[]): CaseResult => ({
    name: 'c', summary: '', failures: [], subjectNotes: [],
    loads: outcomes.flatMap((o) => (o.load ? [o.load] : [])),
    comparisons: compare('c', outcomes),
  });
  const good = caseOf([outcome(load('j', 'jitgate', 10)), outcome(load('p', 'peer', 1), { kind: 'ratio', min: 4 })]);
  assert.equal(runFails([good]), false);
  const dirtyReference = caseOf([outcome(load('j', 'jitgate', 10)), outcome(load('p', 'peer', 1, { errors: 1 }))]);
  assert.equal(runFails([dirtyReference]), true);
  assert.match(resultsTable([dirtyReference]), /\| 1 ⚠ \|.*INVALID/);
});

test('regenerating the report keeps everything from the notes marker on', () => {
  const old = `# old generated\n\nstale table\n\n${NOTES_MARKER}\n## Notes\n\nmeasured on a quiet box\n`;
  const next = withNotes('# Benchmarks\n\nnew table\n', old);
  assert.equal(next, `# Benchmarks\n\nnew table\n\n${NOTES_MARKER}\n## Notes\n\nmeasured on a quiet box\n`);
  assert.ok(!next.includes('stale table'));
  assert.ok(withNotes('# B\n', null).includes(NOTES_MARKER), 'a first report gets a notes section');
});

test('/proc parsers read CPU ticks past a command name holding spaces and parentheses', () => {
  const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 999 123456 789';
  assert.equal(parseStatCpuTicks(stat), 325);
  assert.deepEqual(parseStatusMemory('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n'), { hwmKiB: 204800, rssKiB: 102400 });
  assert.throws(() => parseStatusMemory('Name:\tnode\n'), /VmHWM/);
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is inside user, so not added again.
  const a = parseMachineTicks('cpu  1000 0 200 700 50 0 20 30 400 0\ncpu0 1 2 3\n');
  assert.deepEqual(a, { total: 2000, steal: 30 });
  const b = parseMachineTicks('cpu  1100 0 220 780 50 0 20 80 400 0\n');
  assert.equal(stealPctBetween(a, b), 20);
  assert.equal(stealPctBetween(a, a), 0);
});

test('options: quick defaults, no report unless asked, unknown cases refused', () => {
  const names = ['client_credentials', 'introspection'];
  const quick = parseOptions(['--quick'], names);
  assert.equal(quick.durationS, 3);
  assert.equal(quick.warmupS, 1);
  assert.equal(quick.out, null);
  const full = parseOptions([], names);
  assert.equal(full.durationS, 15);
  assert.equal(full.out, 'docs/benchmarks.md');
  assert.equal(parseOptions(['--out', '-'], names).out, null);
  assert.deepEqual(parseOptions(['--only', 'introspection'], names).only, ['introspection']);
  assert.throws(() => parseOptions(['--only', 'nope'], names), { code: 'bench_usage' });
  assert.throws(() => parseOptions(['--connections', '0'], names), { code: 'bench_usage' });
  assert.throws(() => parseOptions(['--bogus'], names), { code: 'bench_usage' });
});
