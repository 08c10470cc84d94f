/**
 * policy_decision: one policy decision in-process, on the large generated
 * policy of bench/lib/policy-workload.ts; no server, no HTTP.
 */
import { summarize } from '../lib/percentiles.js';
import { GROUPS, PRINCIPALS, REQUESTS, RULES, TARGET_P99_US, buildWorkload, describeRun, runDecisions } from '../lib/policy-workload.js';
import type { InProcessCase, InProcessFigures, MeasureSettings } from '../lib/types.js';

const SEED = 42;

async function measure(settings: MeasureSettings, log: (line: string) => void): Promise<InProcessFigures> {
  const workload = buildWorkload(SEED);
  log(`generated policy loaded in ${workload.loadMs.toFixed(0)} ms`);
  const warm = settings.warmupS > 0 ? runDecisions(workload, { durationMs: settings.warmupS * 1000 }) : null;
  const cpu0 = process.cpuUsage();
  const run = runDecisions(workload, { durationMs: settings.durationS * 1000 }, warm?.nextOffset ?? 0);
  const cpu = process.cpuUsage(cpu0);
  const us = summarize(run.timesUs);
  const count = run.timesUs.length;
  return {
    rate: count / (run.wallMs / 1000),
    p50Ms: us.p50 / 1000,
    p90Ms: us.p90 / 1000,
    p99Ms: us.p99 / 1000,
    maxMs: us.max / 1000,
    count,
    durationS: run.wallMs / 1000,
    errors: run.errors,
    cpuPct: ((cpu.user + cpu.system) / 1000 / run.wallMs) * 100,
    describe: `decide(policy, request, now, history) on ${REQUESTS.toLocaleString('en-US')} seeded random requests, each call timed on its own`,
    facts: [...describeRun(workload, run), `p99.9 ${us.p999.toFixed(1)} µs`],
  };
}

export const policyDecision: InProcessCase = {
  kind: 'in-process',
  name: 'policy_decision',
  label: 'jitgate policy engine (in-process)',
  unit: 'decision',
  target: { kind: 'p99', maxMs: TARGET_P99_US / 1000 },
  summary:
    `One policy decision (src/policy/decide.ts) in the runner process, with no server and no HTTP: a generated policy ` +
    `of ${RULES.toLocaleString('en-US')} rules (every rule kind: group, scope, principal and risk matches, CEL conditions, ` +
    `approval stages, denials), ${PRINCIPALS.toLocaleString('en-US')} principals in ${GROUPS} groups and 200 scopes, ` +
    `loaded through the real loader (YAML, schema, CEL compilation); seeded random requests, of which about a quarter ` +
    `try every rule and reach the default decision. Single-threaded; each decision is timed on its own after the warm-up. ` +
    '`npx tsx bench/policy-decision.ts` runs the same workload by counts instead of seconds.',
  measure: async (settings, log) => measure(settings, log),
};
