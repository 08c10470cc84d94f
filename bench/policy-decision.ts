/**
 * Latency of one policy decision (src/policy/decide.ts) on a large generated
 * policy: 1,000 rules, 10,000 principals in 500 groups, 200 scopes. The
 * policy goes through the real loader (YAML, schema, CEL compilation), the
 * requests are random but seeded, so runs compare. Each decision is timed on
 * its own after a warm-up; the target is p99 under 0.2 ms.
 *
 *   npx tsx bench/policy-decision.ts [--decisions N] [--warmup N] [--seed N]
 *
 * In-process and single-threaded: it measures the engine, not HTTP, so it is
 * not a case of the server benchmark in bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import { loadPolicyText } from '../src/policy/load.js';
import { decide, type DecisionFacts, type History } from '../src/policy/decide.js';
import type { Policy } from '../src/policy/types.js';

const RULES = 1000;
const PRINCIPALS = 10_000;
const GROUPS = 500;
const SCOPES = 200;
const RISKS = ['low', 'medium', 'high', 'critical'] as const;
const TARGET_P99_US = 200;

interface Options {
  decisions: number;
  warmup: number;
  seed: number;
}

function options(argv: string[]): Options {
  const o: Options = { decisions: 100_000, warmup: 20_000, seed: 42 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = Number(argv[i + 1]);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${key} needs a whole number`);
    if (key === '--decisions') o.decisions = Math.max(1, value);
    else if (key === '--warmup') o.warmup = value;
    else if (key === '--seed') o.seed = value;
    else throw new Error(`unknown option ${key}; options are --decisions N, --warmup N, --seed N`);
  }
  return o;
}

/** Park–Miller: deterministic, so two runs decide on the same requests. */
function rng(seed: number): () => number {
  let s = (seed % 2_147_483_646) + 1;
  return () => (s = (s * 48_271) % 2_147_483_647) / 2_147_483_647;
}

const scope = (i: number) => `svc${i}:op${i % 7}`;
const group = (i: number) => `team-${i}`;
const principal = (i: number) => (i % 10 === 0 ? `client:job-${i}` : `user:u${i}`);

/** The policy text: every rule kind jitgate supports, in proportions a large organisation might write. */
function generatePolicy(rand: () => number): string {
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

function generateRequests(rand: () => number, n: number): { facts: DecisionFacts; history: History }[] {
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
        principal: principal(pick(PRINCIPALS)),
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

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function main(): void {
  const opts = options(process.argv.slice(2));
  const rand = rng(opts.seed);

  const t0 = performance.now();
  const text = generatePolicy(rand);
  const loaded = loadPolicyText(text, { source: 'generated policy' });
  if (!loaded.policy) {
    const first = loaded.issues.filter((i) => i.severity === 'error').slice(0, 5);
    throw new Error(`the generated policy does not load:\n${first.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  }
  const policy: Policy = loaded.policy;
  const loadMs = performance.now() - t0;

  const requests = generateRequests(rand, 10_000);
  const ruleIndex = new Map(policy.rules.map((r) => [r.name, r.index]));
  const run = (i: number) => {
    const r = requests[i % requests.length]!;
    return decide(policy, r.facts, { epochMs: Date.now() }, r.history);
  };

  for (let i = 0; i < opts.warmup; i++) run(i);

  const times = new Float64Array(opts.decisions);
  const outcomes = new Map<string, number>();
  const depths: number[] = [];
  let conditionErrors = 0;
  const wall = performance.now();
  for (let i = 0; i < opts.decisions; i++) {
    const start = performance.now();
    const d = run(opts.warmup + i);
    times[i] = (performance.now() - start) * 1000;
    outcomes.set(d.outcome, (outcomes.get(d.outcome) ?? 0) + 1);
    depths.push(d.rule === null ? RULES : (ruleIndex.get(d.rule) ?? RULES));
    if (d.condition_error !== undefined) conditionErrors++;
  }
  const wallMs = performance.now() - wall;
  times.sort();
  depths.sort((a, b) => a - b);

  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  const fmt = (us: number) => `${us.toFixed(1)} µs`;
  const lines = [
    `policy: ${policy.rules.length} rules, ${policy.groupsOf.size} principals in ${policy.groups.size} groups, ${policy.scopes.size} scopes (loaded in ${loadMs.toFixed(0)} ms)`,
    `decisions: ${opts.decisions} after ${opts.warmup} warm-up, seed ${opts.seed}, Node ${process.version}`,
    `outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; decided by the default in ${depths.filter((d) => d === RULES).length}; conditions that failed safe in ${conditionErrors}`,
    `position of the deciding rule (1000 = none, default applied): median ${percentile(Float64Array.from(depths), 50)}, p90 ${percentile(Float64Array.from(depths), 90)}`,
    `latency per decision: p50 ${fmt(p50)}, p90 ${fmt(percentile(times, 90))}, p99 ${fmt(p99)}, p99.9 ${fmt(percentile(times, 99.9))}, max ${fmt(times[times.length - 1] ?? 0)}`,
    `throughput: ${Math.round(opts.decisions / (wallMs / 1000)).toLocaleString('en-US')} decisions/s on one core`,
    `target p99 < ${TARGET_P99_US} µs: ${p99 < TARGET_P99_US ? 'met' : 'MISSED'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
