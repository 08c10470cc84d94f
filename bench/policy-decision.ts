/**
 * Latency of one policy decision (src/policy/decide.ts) on a large generated
 * policy: 1,000 rules, 10,000 principals in 500 groups, 200 scopes. The
 * policy goes through the real loader (YAML, schema, CEL compilation), the
 * requests are random but seeded, so runs compare. Each decision is timed on
 * its own after a warm-up; the target is p99 under 0.2 ms.
 *
 *   npx tsx bench/policy-decision.ts [--decisions N] [--warmup N] [--seed N]
 *
 * In-process and single-threaded: it measures the engine, not HTTP. The same
 * workload (bench/lib/policy-workload.ts) runs as the `policy_decision` case of
 * bench/run.ts, timed by seconds rather than by counts.
 */
import { summarize } from './lib/percentiles.js';
import { TARGET_P99_US, buildWorkload, describeRun, runDecisions } from './lib/policy-workload.js';

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

function main(): void {
  const opts = options(process.argv.slice(2));
  const workload = buildWorkload(opts.seed);
  const warm = opts.warmup > 0 ? runDecisions(workload, { decisions: opts.warmup }) : null;
  const run = runDecisions(workload, { decisions: opts.decisions }, warm?.nextOffset ?? 0);
  const t = summarize(run.timesUs);
  const fmt = (us: number) => `${us.toFixed(1)} µs`;
  const [policyLine, ...mix] = describeRun(workload, run);
  const lines = [
    policyLine,
    `decisions: ${opts.decisions} after ${opts.warmup} warm-up, seed ${opts.seed}, Node ${process.version}`,
    ...mix,
    `latency per decision: p50 ${fmt(t.p50)}, p90 ${fmt(t.p90)}, p99 ${fmt(t.p99)}, p99.9 ${fmt(t.p999)}, max ${fmt(t.max)}`,
    `throughput: ${Math.round(opts.decisions / (run.wallMs / 1000)).toLocaleString('en-US')} decisions/s on one core`,
    `target p99 < ${TARGET_P99_US} µs: ${t.p99 < TARGET_P99_US ? 'met' : 'MISSED'}`,
  ];
  if (run.errors > 0) lines.push(`${run.errors} decisions threw`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
