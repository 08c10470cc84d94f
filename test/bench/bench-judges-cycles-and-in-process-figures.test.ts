import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, cycleProblems, runFails, type SubjectOutcome } from '../../bench/lib/verdict.js';
import { renderReport, resultsTable } from '../../bench/lib/report.js';
import { percentile, summarize } from '../../bench/lib/percentiles.js';
import { ratesByThird } from '../../bench/lib/cycles.js';
import type { CaseResult, LoadResult, RateUnit, RunRecord, Target } from '../../bench/lib/types.js';

function figure(label: string, unit: RateUnit, rps: number, over: Partial<LoadResult> = {}): LoadResult {
  return {
    serverId: label, label, role: 'jitgate', unit, rps, p50Ms: 10, p90Ms: 20, p99Ms: 30, maxMs: 40, requests: rps * 3,
    durationS: 3, errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, statusCodes: {}, serverCpuS: 1, serverCpuPct: 33,
    serverCpuUsPerReq: 1000, serverPeakRssMiB: 180, serverMaxSampledRssMiB: 170, clientCpuPct: 12, loadAvgBefore: 0.5,
    problems: [], describe: 'cycle', ...over,
  };
}

const alone = (l: LoadResult, target: Target | null, role: 'jitgate' | 'peer' = 'jitgate', against?: string[]): SubjectOutcome => ({
  serverId: l.serverId, label: l.label, role, target, load: { ...l, role }, ...(against ? { against } : {}),
});

test('a cycle figure with any failed cycle, warm-up and drain included, is not clean', () => {
  const clean = { cycles: 10, errors: 0, timeouts: 0, unexpected: {}, badBodies: {}, outsideFailures: 0 };
  assert.deepEqual(cycleProblems(clean), []);
  assert.deepEqual(cycleProblems({ ...clean, cycles: 0 }), ['no cycle completed']);
  assert.deepEqual(cycleProblems({ ...clean, unexpected: { 'approve 409': 2, 'request 500': 1 } }), ['3 unexpected statuses (2×approve 409, 1×request 500)']);
  assert.deepEqual(cycleProblems({ ...clean, badBodies: { exchange: 4 } }), ['4 responses without the expected body (4×exchange)']);
  assert.deepEqual(cycleProblems({ ...clean, outsideFailures: 1, timeouts: 2, errors: 3 }), [
    '3 connection errors',
    '2 timeouts',
    '1 cycles failed outside the measured time',
  ]);
});

test('a jitgate figure with its own target is judged without a peer, in its unit', () => {
  const [pass] = compare('jit_cycle', [alone(figure('j', 'cycle', 500), { kind: 'absolute', min: 500 })], 'cycle');
  assert.equal(pass?.verdict, 'pass');
  assert.equal(pass?.peer, null);
  const [fail] = compare('jit_cycle', [alone(figure('j', 'cycle', 499.6), { kind: 'absolute', min: 500 })], 'cycle');
  assert.equal(fail?.verdict, 'fail');
  assert.equal(fail?.why, '500 cycles/s < 500');
  const [dirty] = compare('jit_cycle', [alone(figure('j', 'cycle', 900, { problems: ['1 timeouts'] }), { kind: 'absolute', min: 500 })], 'cycle');
  assert.equal(dirty?.verdict, 'invalid');
  // No target and no peer: nothing to judge, no row.
  assert.deepEqual(compare('jit_cycle', [alone(figure('pg', 'cycle', 100), null)], 'cycle'), []);

  const [fast] = compare('policy_decision', [alone(figure('e', 'decision', 40_000, { p99Ms: 0.071 }), { kind: 'p99', maxMs: 0.2 })], 'decision');
  assert.equal(fast?.verdict, 'pass');
  assert.equal(fast?.p99Ms, 0.071);
  const [slow] = compare('policy_decision', [alone(figure('e', 'decision', 40_000, { p99Ms: 0.2 }), { kind: 'p99', maxMs: 0.2 })], 'decision');
  assert.equal(slow?.verdict, 'fail');
  assert.equal(slow?.why, 'p99 0.2 ms ≥ 0.2 ms');
});

test('a peer limited to some jitgate servers is compared only with those', () => {
  const out = compare('token_exchange_elevated', [
    alone(figure('sqlite', 'request', 800), null),
    alone(figure('sqlite cc', 'request', 1600), null, 'peer', ['sqlite']),
    alone(figure('pg', 'request', 400), null),
    alone(figure('pg cc', 'request', 800), null, 'peer', ['pg']),
  ]);
  assert.deepEqual(
    out.map((c) => [c.jitgate, c.peer, c.ratio, c.verdict]),
    [
      ['sqlite', 'sqlite cc', 0.5, 'reference'],
      ['pg', 'pg cc', 0.5, 'reference'],
    ],
  );
});

test('the report names each unit, shows µs for decisions, per-step figures for cycles, and no server figures in-process', () => {
  const cycle = figure('jitgate (SQLite)', 'cycle', 612, {
    stealPct: 7.25,
    steps: [{ step: 'request', ok: 1836, p50Ms: 3.5, p99Ms: 12, maxMs: 30, statusCodes: { '201': 1836 } }],
  });
  const decision = figure('jitgate policy engine (in-process)', 'decision', 39_450, {
    p50Ms: 0.0159, p90Ms: 0.04, p99Ms: 0.0713, maxMs: 2.5, serverCpuS: null, serverCpuPct: null, serverCpuUsPerReq: null,
    serverPeakRssMiB: null, serverMaxSampledRssMiB: null, facts: ['outcomes: deny 1, stages 2'],
  });
  const cases: CaseResult[] = [
    { name: 'jit_cycle', summary: 's', loads: [cycle], failures: [], subjectNotes: [], comparisons: compare('jit_cycle', [alone(cycle, { kind: 'absolute', min: 500 })], 'cycle') },
    {
      name: 'policy_decision', summary: 's', loads: [decision], failures: [], subjectNotes: [],
      comparisons: compare('policy_decision', [alone(decision, { kind: 'p99', maxMs: 0.2 })], 'decision'),
    },
  ];
  const table = resultsTable(cases);
  assert.match(table, /\| jit_cycle \| jitgate \(SQLite\) \| 612 cycles\/s \| — \| — \| — \| ≥ 500 cycles\/s \| \*\*pass\*\* \|/);
  assert.match(table, /\| policy_decision \| .* \| 39,450 decisions\/s \| — \| — \| — \| p99 < 0.2 ms \| \*\*pass\*\* \(p99 0.071 ms\) \|/);
  assert.equal(runFails(cases), false);

  const run: RunRecord = {
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 4, node: 'v20', os: 'linux', date: 'd', gitCommit: 'abc', gitDirty: false, loadGenerator: 'autocannon' },
    settings: { quick: true, durationS: 3, warmupS: 1, connections: 32, only: null, pg: false },
    servers: [],
    cases,
    totalS: 10,
  };
  const md = renderReport(run);
  assert.match(md, /cycle cases: 32 workers on one undici keep-alive pool/);
  assert.match(md, /\| server \| cycles\/s \| p50 ms .* \| cycles \| server CPU \| CPU µs\/cycle \|/);
  assert.match(md, /\| jitgate \(SQLite\) \| request \| 1,836 \| 3.50 \| 12 \| 30 \| 201×1,836 \|/);
  assert.match(md, /\| measured \| decisions\/s \| p50 µs \| p90 µs \| p99 µs \| max µs \|/);
  assert.match(md, /\| jitgate policy engine \(in-process\) \| 39,450 \| 15.9 \| 40.0 \| 71.3 \| 2500.0 \| 118,350 \| — \| — \| — \|/);
  assert.match(md, /^- outcomes: deny 1, stages 2$/m);
  // Steal is shown where it was measured, and only there.
  assert.match(md, /^CPU time the hypervisor gave to other guests during each measured load \(steal\): jitgate \(SQLite\) 7\.3%\.$/m);
  assert.equal((md.match(/\(steal\)/g) ?? []).length, 1);
});

test('percentiles are nearest-rank over the sorted samples', () => {
  assert.equal(percentile(Float64Array.from([1, 2, 3, 4]), 50), 2);
  assert.equal(percentile(Float64Array.from([1, 2, 3, 4]), 99), 4);
  assert.ok(Number.isNaN(percentile([], 50)));
  const s = summarize(Array.from({ length: 1000 }, (_, i) => 1000 - i));
  assert.deepEqual([s.p50, s.p90, s.p99, s.p999, s.max], [500, 900, 990, 999, 1000]);
});

test('cycle rates by third of the measured time show a rate that falls as the run goes on', () => {
  assert.deepEqual(ratesByThird([100, 200, 900, 1100, 2500, 2999], 3), [3, 1, 2]);
  // A cycle ending a hair past the window (timer skew) counts in the last third.
  assert.deepEqual(ratesByThird([0, 499, 500, 1499, 1501], 1.5), [4, 2, 4]);
  assert.deepEqual(ratesByThird([], 3), [0, 0, 0]);
});
