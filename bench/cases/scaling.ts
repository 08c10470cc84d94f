/**
 * scaling: how the cost of the operations that read what grows with an
 * installation changes at 1×, 10× and 100× its size:
 *
 * - a policy decision (in-process) on a generated policy of 100, 1,000 and
 *   10,000 principals with 10, 100 and 1,000 rules;
 * - introspection and the token exchange on a server (SQLite) whose database
 *   holds 1,000, 10,000 and 100,000 active grants and as many live tokens.
 *
 * The output is one table, a row per size; no target.
 */
import { summarize } from '../lib/percentiles.js';
import { buildWorkload, runDecisions, type PolicySize } from '../lib/policy-workload.js';
import { asFailure, asLoad } from '../lib/composite.js';
import { closedLoad } from '../lib/http-loads.js';
import { elevationLoads, startSeededNode } from '../lib/seeded-node.js';
import type { CompositeCase, CompositeContext, CompositeOutcome, LoadResult, MeasureSettings, RunningServer } from '../lib/types.js';

interface Size {
  factor: string;
  policy: PolicySize;
  /** Active grants, and as many live tokens, in the database. */
  rows: number;
}

const SIZES: readonly Size[] = [
  { factor: '1×', policy: { rules: 10, principals: 100, groups: 5 }, rows: 1_000 },
  { factor: '10×', policy: { rules: 100, principals: 1_000, groups: 50 }, rows: 10_000 },
  { factor: '100×', policy: { rules: 1_000, principals: 10_000, groups: 500 }, rows: 100_000 },
];
const SEED = 42;
/** Grants the load's client makes through the real flow: the elevated tokens introspected. */
const OWN_GRANTS = 16;

const int = (n: number) => Math.round(n).toLocaleString('en-US');

interface Row {
  size: Size;
  decisions?: { rate: number; p50Us: number; p99Us: number };
  introspection?: LoadResult;
  exchange?: LoadResult;
}

/** Shorter loads than the other cases: six of them, plus the policy runs, in one case. */
function scaledSettings(s: MeasureSettings, quick: boolean): MeasureSettings {
  return quick ? { ...s, durationS: Math.min(s.durationS, 1), warmupS: 0 } : { ...s, durationS: Math.min(s.durationS, 6), warmupS: Math.min(s.warmupS, 2) };
}

function decisionFigures(size: Size, seconds: number): Row['decisions'] {
  const w = buildWorkload(SEED, size.policy);
  const warm = runDecisions(w, { durationMs: 500 });
  const run = runDecisions(w, { durationMs: seconds * 1000 }, warm.nextOffset);
  if (run.errors > 0) throw new Error(`${run.errors} decisions threw on the ${size.factor} policy`);
  const us = summarize(run.timesUs);
  return { rate: run.timesUs.length / (run.wallMs / 1000), p50Us: us.p50, p99Us: us.p99 };
}

function table(rows: Row[]): string {
  const cell = (l: LoadResult | undefined) => (l ? `${int(l.rps)} req/s, p99 ${l.p99Ms} ms${l.problems.length ? ' ⚠' : ''}` : 'not measured');
  const lines = [
    '| size | policy | policy decision | grants and tokens in the database | introspection | token exchange |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const d = r.decisions ? `${int(r.decisions.rate)}/s, p99 ${r.decisions.p99Us.toFixed(1)} µs` : 'not measured';
    lines.push(
      `| ${r.size.factor} | ${int(r.size.policy.principals)} principals, ${int(r.size.policy.rules)} rules | ${d} | ${int(r.size.rows)} each | ` +
        `${cell(r.introspection)} | ${cell(r.exchange)} |`,
    );
  }
  return `How cost grows with the size of the installation (policy decisions single-threaded in the runner; server loads on a fresh server per size):\n\n${lines.join('\n')}`;
}

async function run(ctx: CompositeContext): Promise<CompositeOutcome> {
  const settings = scaledSettings(ctx.settings, ctx.quick);
  // A quick run decides on the two smaller policies only and starts no server: seeding and six loads do not fit in it.
  const sizes = ctx.quick ? SIZES.slice(0, 2) : SIZES;
  const out: CompositeOutcome = { loads: [], failures: [], comparisons: [] };
  const rows: Row[] = [];
  for (const size of sizes) {
    const row: Row = { size };
    rows.push(row);
    const policyWho = { serverId: `policy-${size.factor}`, label: `policy decision, ${size.factor}`, role: 'jitgate' as const };
    try {
      row.decisions = decisionFigures(size, settings.durationS);
      ctx.log(`policy ${size.factor}: ${int(row.decisions!.rate)} decisions/s, p99 ${row.decisions!.p99Us.toFixed(1)} µs`);
    } catch (err) {
      out.failures.push(await asFailure(policyWho, err));
    }
    if (ctx.quick) continue;
    const who = (op: string) => ({ serverId: `jitgate-sqlite-${op}-${size.rows}`, label: `${op}, ${int(size.rows)} grants and tokens`, role: 'jitgate' as const });
    let node: RunningServer | null = null;
    let current = who('introspection');
    try {
      ctx.log(`${int(size.rows)} grants and tokens: seeding and starting`);
      node = (await startSeededNode(ctx.env, size.rows, size.rows)).node;
      const loads = await elevationLoads(node, OWN_GRANTS);
      row.introspection = asLoad(await closedLoad(node.pid, loads.introspection, settings), current, `POST /introspect of one of ${OWN_GRANTS} elevated tokens, by their client`);
      out.loads.push(row.introspection);
      current = who('token exchange');
      row.exchange = asLoad(await closedLoad(node.pid, loads.exchange, settings), current, 'POST /token token-exchange of the requester\'s baseline token for the elevated scope');
      out.loads.push(row.exchange);
      ctx.log(`${int(size.rows)}: introspection ${int(row.introspection.rps)} req/s p99 ${row.introspection.p99Ms} ms; exchange ${int(row.exchange.rps)} req/s p99 ${row.exchange.p99Ms} ms`);
    } catch (err) {
      out.failures.push(await asFailure(current, err, node ? [node] : []));
    } finally {
      await node?.stop().catch(() => {});
    }
  }
  out.tables = [table(rows)];
  out.subjectNotes = ctx.quick ? [{ label: 'the server loads and 100×', note: 'left out of --quick runs, which only decide on the 1× and 10× policies' }] : [];
  return out;
}

export const scaling: CompositeCase = {
  kind: 'composite',
  name: 'scaling',
  summary:
    'How throughput and p99 change at 1×, 10× and 100× the size of an installation, for the operations that read what ' +
    'grows: a policy decision on a generated policy of 100 / 1,000 / 10,000 principals and 10 / 100 / 1,000 rules ' +
    '(in-process, as in policy_decision), and introspection and the token exchange on a server (SQLite) whose database ' +
    'holds 1,000 / 10,000 / 100,000 active grants and as many live tokens, seeded over 1,000 principals before it starts. ' +
    'Loads are shorter than in the other cases (6 s after a 2 s warm-up); --quick only decides on the 1× and 10× policies. ' +
    'No target: the table shows whether cost stays flat.',
  run,
};
