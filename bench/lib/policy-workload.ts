/**
 * The policy-engine workload: a large generated policy (1,000 rules, 10,000
 * principals in 500 groups, 200 scopes) loaded through the real loader (YAML,
 * schema, CEL compilation), random but seeded requests, and a timed loop of
 * single decisions (src/policy/decide.ts). Used by the `policy_decision` case
 * and by bench/policy-decision.ts.
 */
import { performance } from 'node:perf_hooks';
import { loadPolicyText } from '../../src/policy/load.js';
import { decide, type DecisionFacts, type History } from '../../src/policy/decide.js';
import type { Policy } from '../../src/policy/types.js';
import { summarize } from './percentiles.js';

export const RULES = 1000;
export const PRINCIPALS = 10_000;
export const GROUPS = 500;
export const SCOPES = 200;
/** How large a generated policy is; the `policy_decision` case uses the full size, the `scaling` case smaller ones too. */
export interface PolicySize {
  rules: number;
  principals: number;
  /** Principals are spread evenly over the groups. */
  groups: number;
}

export const FULL_SIZE: PolicySize = { rules: RULES, principals: PRINCIPALS, groups: GROUPS };

/** Distinct requests cycled through. */
export const REQUESTS = 10_000;
/** The target: p99 of one decision under this many microseconds. */
export const TARGET_P99_US = 200;
const RISKS = ['low', 'medium', 'high', 'critical'] as const;

/** Park–Miller: deterministic, so two runs decide on the same requests. */
export function rng(seed: number): () => number {
  let s = (seed % 2_147_483_646) + 1;
  return () => (s = (s * 48_271) % 2_147_483_647) / 2_147_483_647;
}

const scope = (i: number) => `svc${i}:op${i % 7}`;
const group = (i: number) => `team-${i}`;
const principal = (i: number) => (i % 10 === 0 ? `client:job-${i}` : `user:u${i}`);

/** The policy text: every rule kind jitgate supports, in proportions a large organisation might write. */
export function generatePolicy(rand: () => number, size: PolicySize = FULL_SIZE): string {
  const { rules: RULES, principals: PRINCIPALS, groups: GROUPS } = size;
  const pick = (n: number) => Math.floor(rand() * n);
  const lines: string[] = ['version: 1', 'timezone: Europe/Berlin', 'business_hours: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00" }', 'scopes:'];
  for (let i = 0; i < SCOPES; i++) {
    const risk = RISKS[i % RISKS.length];
    lines.push(`  ${scope(i)}: { risk: ${risk}, max_ttl: ${risk === 'critical' ? '30m' : '4h'} }`);
  }
  lines.push('resources:');
  for (let r = 0; r < 10; r++) {
    const list = Array.from({ length: SCOPES / 10 }, (_, k) => scope(r * (SCOPES / 10) + k));
    lines.push(`  - audience: https://svc${r}.internal`, `    scopes: [${list.join(', ')}]`);
  }
  lines.push('groups:');
  const perGroup = PRINCIPALS / GROUPS;
  for (let g = 0; g < GROUPS; g++) {
    const members = Array.from({ length: perGroup }, (_, k) => principal(g * perGroup + k));
    const eligible = Array.from({ length: 4 }, () => scope(pick(SCOPES)));
    lines.push(`  ${group(g)}: { members: [${members.join(', ')}], eligible: [${[...new Set(eligible)].join(', ')}] }`);
  }
  lines.push('rules:');
  for (let i = 0; i < RULES; i++) {
    const name = `rule ${i}`;
    switch (i % 6) {
      case 0:
        lines.push(
          `  - name: ${name}`,
          `    match: { groups: [${group(pick(GROUPS))}, ${group(pick(GROUPS))}], scopes: [${scope(pick(SCOPES))}] }`,
          `    when: "request.duration_s <= 3600 && now.business_hours"`,
          '    decision: approve',
        );
        break;
      case 1:
        lines.push(
          `  - name: ${name}`,
          `    match: { scopes: [${scope(pick(SCOPES))}, ${scope(pick(SCOPES))}], risk: [high, critical] }`,
          '    stages:',
          `      - { approvers: [${group(pick(GROUPS))}], count: 1, timeout: 15m, escalate_to: [${group(pick(GROUPS))}] }`,
          `      - { approvers: [${group(pick(GROUPS))}], count: 2, timeout: 30m }`,
        );
        break;
      case 2: {
        const who = Array.from({ length: 5 }, () => principal(pick(PRINCIPALS)));
        lines.push(`  - name: ${name}`, `    match: { principals: [${[...new Set(who)].join(', ')}] }`, '    decision: approve');
        break;
      }
      case 3:
        lines.push(
          `  - name: ${name}`,
          `    match: { groups: [${group(pick(GROUPS))}] }`,
          `    when: 'has(request.context.branch) && request.context.branch == "main" && !history.first_time'`,
          '    decision: approve',
        );
        break;
      case 4:
        lines.push(
          `  - name: ${name}`,
          `    match: { scopes: [${scope(pick(SCOPES))}], risk: [critical] }`,
          `    when: '!now.business_hours || request.context.env == "prod"'`,
          '    decision: deny',
        );
        break;
      default:
        lines.push(
          `  - name: ${name}`,
          `    match: { scopes: [${scope(pick(SCOPES))}, ${scope(pick(SCOPES))}, ${scope(pick(SCOPES))}] }`,
          `    when: 'request.max_risk == "low" && history.times_held.exists(s, history.times_held[s] > 2)'`,
          '    decision: approve',
        );
    }
  }
  lines.push('default_decision: deny');
  return `${lines.join('\n')}\n`;
}

export interface DecisionInput {
  facts: DecisionFacts;
  history: History;
}

/** `n` random requests by random principals for 1–3 random scopes, with and without context and history. */
export function generateRequests(rand: () => number, n: number, principals: number = PRINCIPALS): DecisionInput[] {
  const pick = (k: number) => Math.floor(rand() * k);
  return Array.from({ length: n }, () => {
    const scopes = [...new Set(Array.from({ length: 1 + pick(3) }, () => scope(pick(SCOPES))))];
    const context: Record<string, unknown> = {};
    if (rand() < 0.5) context.branch = rand() < 0.5 ? 'main' : 'feature/x';
    if (rand() < 0.3) context.env = rand() < 0.5 ? 'prod' : 'staging';
    const timesHeld = new Map<string, number>();
    for (const s of scopes) if (rand() < 0.4) timesHeld.set(s, pick(6));
    return {
      facts: {
        principal: principal(pick(principals)),
        scopes,
        resource: 'https://svc0.internal',
        durationS: 300 * (1 + pick(24)),
        reason: 'routine maintenance of the service',
        ticket: rand() < 0.5 ? `OPS-${pick(10_000)}` : null,
        context,
      },
      history: { timesHeld },
    };
  });
}

/** A loaded generated policy and the requests to decide on it. */
export interface Workload {
  policy: Policy;
  requests: DecisionInput[];
  seed: number;
  size: PolicySize;
  /** Time to generate and load the policy text. */
  loadMs: number;
}

/** Generates and loads the policy, then the requests, from `seed`. Throws when the policy does not load. */
export function buildWorkload(seed: number, size: PolicySize = FULL_SIZE): Workload {
  const rand = rng(seed);
  const t0 = performance.now();
  const loaded = loadPolicyText(generatePolicy(rand, size), { source: 'generated policy' });
  if (!loaded.policy) {
    const first = loaded.issues.filter((i) => i.severity === 'error').slice(0, 5);
    throw new Error(`the generated policy does not load:\n${first.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  }
  const loadMs = performance.now() - t0;
  return { policy: loaded.policy, requests: generateRequests(rand, REQUESTS, size.principals), seed, size, loadMs };
}

/** How long a run of decisions goes: a number of decisions, or a time. */
export type RunLength = { decisions: number } | { durationMs: number };

/** What a run of decisions did. */
export interface DecisionRun {
  /** Per-decision latency, µs, in decision order. */
  timesUs: Float64Array;
  /** Wall time of the whole run, ms. */
  wallMs: number;
  outcomes: Map<string, number>;
  /** Decisions made by the default after trying every rule. */
  byDefault: number;
  /** Position of the deciding rule, RULES when the default applied, per decision. */
  depths: number[];
  /** Decisions in which some condition failed safe. */
  conditionErrors: number;
  /** Calls that threw. */
  errors: number;
  /** Where the next run should start in the request list, so runs do not repeat each other. */
  nextOffset: number;
}

/** Decides requests one at a time, each timed on its own, from request `offset` on. */
export function runDecisions(w: Workload, length: RunLength, offset = 0): DecisionRun {
  const ruleIndex = new Map(w.policy.rules.map((r) => [r.name, r.index]));
  const times: number[] = [];
  const outcomes = new Map<string, number>();
  const depths: number[] = [];
  let conditionErrors = 0;
  let byDefault = 0;
  let errors = 0;
  const wall = performance.now();
  const until = 'durationMs' in length ? wall + length.durationMs : Infinity;
  const count = 'decisions' in length ? length.decisions : Infinity;
  let i = 0;
  for (; i < count; i++) {
    const r = w.requests[(offset + i) % w.requests.length]!;
    const start = performance.now();
    try {
      const d = decide(w.policy, r.facts, { epochMs: Date.now() }, r.history);
      const end = performance.now();
      times.push((end - start) * 1000);
      outcomes.set(d.outcome, (outcomes.get(d.outcome) ?? 0) + 1);
      const depth = d.rule === null ? w.size.rules : (ruleIndex.get(d.rule) ?? w.size.rules);
      depths.push(depth);
      if (d.rule === null) byDefault++;
      if (d.condition_error !== undefined) conditionErrors++;
      if (end >= until) {
        i++;
        break;
      }
    } catch {
      errors++;
      if (performance.now() >= until) {
        i++;
        break;
      }
    }
  }
  return {
    timesUs: Float64Array.from(times),
    wallMs: performance.now() - wall,
    outcomes,
    byDefault,
    depths,
    conditionErrors,
    errors,
    nextOffset: offset + i,
  };
}

/** The workload's shape and a run's outcome mix, one line each, for people. */
export function describeRun(w: Workload, run: DecisionRun): string[] {
  const p = w.policy;
  const depth = summarize(run.depths);
  return [
    `policy: ${p.rules.length} rules, ${p.groupsOf.size} principals in ${p.groups.size} groups, ${p.scopes.size} scopes (generated with seed ${w.seed} and loaded in ${w.loadMs.toFixed(0)} ms)`,
    `outcomes: ${[...run.outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; decided by the default in ${run.byDefault}; conditions that failed safe in ${run.conditionErrors}`,
    `position of the deciding rule (${w.size.rules} = none, default applied): median ${depth.p50}, p90 ${depth.p90}`,
  ];
}
