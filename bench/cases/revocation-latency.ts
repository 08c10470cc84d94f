/**
 * revocation_latency: how long a revoked token or grant is still let
 * through by the gateway. Each round gets a fresh token (a baseline token,
 * or an elevated token under a fresh grant, in turn), checks that the
 * gateway lets it through, then revokes it (RFC 7009 revocation of the
 * token; an operator's revocation of the grant) while a tight loop of
 * requests with that token runs against the gateway, and records the time
 * from sending the revocation to the first 401.
 *
 * - one node on SQLite: the gateway fed by the node the revocation goes
 *   through; target p99 ≤ 50 ms;
 * - two nodes on PostgreSQL (when it is reachable): revoked through node A,
 *   the gateway fed by node B, which learns of it by LISTEN/NOTIFY;
 *   target p99 ≤ 250 ms.
 */
import { Pool } from 'undici';
import {
  APPROVER_CLIENT_ID,
  APPROVER_CLIENT_SECRET,
  BENCH_RESOURCE,
  REQUESTER_CLIENT_ID,
  REQUESTER_CLIENT_SECRET,
  basicAuthorization,
  clientCredentialsBody,
} from '../lib/fixture.js';
import { ApiToken, approveRequest, elevationPaths, exchangeForElevated, fileRequest } from '../lib/elevation-steps.js';
import { fetchHttp } from '../lib/fetch-http.js';
import { FORM, endpoint, requestAccessToken } from '../lib/oauth-client.js';
import { asFailure, emptyWindow } from '../lib/composite.js';
import { createBenchSchema, type BenchSchema } from '../lib/pg-schema.js';
import { probePostgres } from '../lib/pg-probe.js';
import { summarize } from '../lib/percentiles.js';
import { watchServer } from '../lib/server-watch.js';
import { readLoadAvg1 } from '../lib/proc-stats.js';
import { freePort } from '../lib/child-server.js';
import {
  ADMIN_CLIENT_ID,
  ADMIN_CLIENT_SECRET,
  ADMIN_PATH,
  ITEMS_PATH,
  newKek,
  sqliteUrl,
  startGatewayProcess,
  startNode,
  startUpstream,
  stopAll,
  writeGatewayPolicy,
} from '../lib/gateway-stack.js';
import { compare, type SubjectOutcome } from '../lib/verdict.js';
import type { CompositeCase, CompositeContext, CompositeOutcome, LoadResult, RunningServer } from '../lib/types.js';

const ONE_NODE_P99_MS = 50;
const TWO_NODES_P99_MS = 250;
/** A round whose token is still let through this long after the revocation failed. */
const GIVE_UP_MS = 5000;

interface Variant {
  serverId: string;
  label: string;
  targetMs: number;
  /** Starts node A (where tokens are got and revoked) and node B (feeding the gateway; the same as A with one node). */
  nodes(ctx: CompositeContext, policyPath: string): Promise<{ a: RunningServer; b: RunningServer; stop(): Promise<void> }>;
}

const ONE_NODE: Variant = {
  serverId: 'revocation-sqlite',
  label: 'revocation → refusal, one node (SQLite)',
  targetMs: ONE_NODE_P99_MS,
  async nodes(ctx, policyPath) {
    const a = await startNode(ctx.env, { id: 'jitgate-sqlite', policyPath, dbUrl: sqliteUrl(ctx.env, 'revocation') });
    return { a, b: a, stop: () => a.stop() };
  },
};

const TWO_NODES: Variant = {
  serverId: 'revocation-pg-two-nodes',
  label: 'revocation → refusal, two nodes (PostgreSQL)',
  targetMs: TWO_NODES_P99_MS,
  async nodes(ctx, policyPath) {
    const schema: BenchSchema = await createBenchSchema(ctx.env.pgUrl);
    const kek = newKek();
    const portA = await freePort();
    // Both nodes stand behind one issuer, as behind a load balancer; the gateway reaches node B by its own address.
    const issuer = `http://127.0.0.1:${portA}`;
    let a: RunningServer | null = null;
    try {
      a = await startNode(ctx.env, { id: 'jitgate-pg-a', policyPath, dbUrl: schema.url, port: portA, issuer, kek });
      const b = await startNode(ctx.env, { id: 'jitgate-pg-b', policyPath, dbUrl: schema.url, issuer, kek });
      return {
        a,
        b,
        async stop() {
          await stopAll([a, b]);
          await schema.drop();
        },
      };
    } catch (err) {
      await a?.stop().catch(() => {});
      await schema.drop().catch(() => {});
      throw err;
    }
  },
};

interface Round {
  kind: 'token' | 'grant';
  /** From sending the revocation to the first 401, ms. */
  ms: number;
  /** From the revocation's answer to the first 401 (negative: refused before the answer arrived), ms. */
  afterAnswerMs: number;
  /** Requests the loop sent until refused. */
  polls: number;
}

/** Requests with `token` back to back until the gateway refuses it; resolves with when the 401 arrived. */
async function firstRefusal(pool: Pool, path: string, token: string, startedAt: number): Promise<{ at: number; polls: number }> {
  const headers = { authorization: `Bearer ${token}` };
  for (let polls = 1; ; polls++) {
    const res = await pool.request({ method: 'GET', path, headers });
    await res.body.text();
    const at = performance.now();
    if (res.statusCode === 401) return { at, polls };
    if (res.statusCode !== 200) throw new Error(`the gateway answered ${res.statusCode} while the token was being revoked`);
    if (at - startedAt > GIVE_UP_MS) throw new Error(`the token was still let through ${GIVE_UP_MS} ms after its revocation`);
  }
}

async function passes(pool: Pool, path: string, token: string): Promise<void> {
  const res = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`the gateway answered ${res.statusCode} to a fresh token, before any revocation`);
}

/** Times `revoke()` against the first refusal of `token` at `path`. */
async function timeRevocation(pool: Pool, path: string, token: string, revoke: () => Promise<void>): Promise<Omit<Round, 'kind'>> {
  await passes(pool, path, token);
  const t0 = performance.now();
  let answeredAt = 0;
  const refused = firstRefusal(pool, path, token, t0);
  await revoke();
  answeredAt = performance.now();
  const { at, polls } = await refused;
  return { ms: at - t0, afterAnswerMs: at - answeredAt, polls };
}

async function measureVariant(ctx: CompositeContext, v: Variant, rounds: number): Promise<LoadResult> {
  const upstream = await startUpstream(ctx.env);
  const policyPath = await writeGatewayPolicy(ctx.env, upstream.baseUrl);
  let nodes: Awaited<ReturnType<Variant['nodes']>> | null = null;
  let gw: RunningServer | null = null;
  let pool: Pool | null = null;
  try {
    nodes = await v.nodes(ctx, policyPath);
    const { a, b } = nodes;
    gw = await startGatewayProcess(ctx.env, policyPath, b.baseUrl);
    pool = new Pool(gw.baseUrl, { connections: 2, pipelining: 1 });
    const http = fetchHttp(a.baseUrl);
    const paths = elevationPaths(a);
    const tokenUrl = endpoint(a, 'token_endpoint');
    const tokenPath = new URL(tokenUrl).pathname;
    const requester = await ApiToken.obtain(http, paths, REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
    const approver = await ApiToken.obtain(http, paths, APPROVER_CLIENT_ID, APPROVER_CLIENT_SECRET);
    const admin = await ApiToken.obtain(http, paths, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET);
    const requesterAuth = basicAuthorization(REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
    const revokeUrl = `${a.baseUrl}${tokenPath.replace(/\/token$/, '/revoke')}`;

    const tokenRound = async (): Promise<Round> => {
      const token = await requestAccessToken(tokenUrl.replace(new URL(tokenUrl).origin, a.baseUrl), clientCredentialsBody(BENCH_RESOURCE));
      const r = await timeRevocation(pool!, ITEMS_PATH, token, async () => {
        const res = await fetch(revokeUrl, { method: 'POST', headers: { authorization: basicAuthorization(), 'content-type': FORM }, body: new URLSearchParams({ token }).toString() });
        await res.text();
        if (res.status !== 200) throw new Error(`revoking the token answered ${res.status}`);
      });
      return { kind: 'token', ...r };
    };
    const grantRound = async (n: number): Promise<Round> => {
      for (const t of [requester, approver, admin]) await t.renewIfNear(http);
      const id = await fileRequest(http, paths, requester.value, '5m', `revocation round ${n}`);
      const grantId = await approveRequest(http, paths, approver.value, id);
      const token = await exchangeForElevated(http, paths, requesterAuth, requester.value, grantId);
      const r = await timeRevocation(pool!, ADMIN_PATH, token, async () => {
        await http.send({
          step: 'revoke grant',
          method: 'POST',
          path: `${paths.api}/grants/${encodeURIComponent(grantId)}/revoke`,
          headers: { authorization: `Bearer ${admin.value}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'benchmark revocation round' }),
          expectStatus: 200,
        });
      });
      return { kind: 'grant', ...r };
    };

    // A few rounds first, not counted: connections, caches and the feed warmed up.
    for (let i = 0; i < 4; i++) await (i % 2 === 0 ? tokenRound() : grantRound(-i));
    const loadAvgBefore = await readLoadAvg1();
    const watch = await watchServer(gw.pid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const done: Round[] = [];
    let failed = 0;
    const samples: string[] = [];
    for (let i = 0; i < rounds; i++) {
      try {
        done.push(i % 2 === 0 ? await tokenRound() : await grantRound(i));
      } catch (err) {
        failed++;
        if (samples.length < 3) samples.push((err as Error).message);
      }
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const window = await watch.end(done.length);
    const all = summarize(done.map((r) => r.ms));
    const after = summarize(done.map((r) => r.afterAnswerMs));
    const byKind = (k: Round['kind']) => summarize(done.filter((r) => r.kind === k).map((r) => r.ms));
    const tok = byKind('token');
    const gr = byKind('grant');
    const f = (n: number) => n.toFixed(1);
    const round2 = (n: number) => Math.round(n * 100) / 100;
    return {
      serverId: v.serverId,
      label: v.label,
      role: 'jitgate',
      unit: 'event',
      rps: done.length / (wallMs / 1000),
      p50Ms: round2(all.p50),
      p90Ms: round2(all.p90),
      p99Ms: round2(all.p99),
      maxMs: round2(all.max),
      requests: done.length,
      durationS: wallMs / 1000,
      errors: failed,
      ...emptyWindow(),
      serverCpuS: window.serverCpuS,
      serverCpuPct: window.serverCpuPct,
      serverPeakRssMiB: window.serverPeakRssMiB,
      serverMaxSampledRssMiB: window.serverMaxSampledRssMiB,
      clientCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      loadAvgBefore,
      problems: failed > 0 ? [`${failed} rounds failed, e.g. ${samples.join(' | ')}`] : done.length === 0 ? ['no round completed'] : [],
      describe:
        `${rounds} rounds, token revocations (POST /revoke) and grant revocations (POST /api/v1/grants/{id}/revoke) in turn` +
        (nodes.a === nodes.b ? ', through the node feeding the gateway' : ', through node A; the gateway fed by node B') +
        `; after each revocation is sent, GET requests with the revoked token back to back until the first 401`,
      facts: [
        `token revoked: p50 ${f(tok.p50)} ms, p99 ${f(tok.p99)} ms; grant revoked: p50 ${f(gr.p50)} ms, p99 ${f(gr.p99)} ms (from sending the revocation)`,
        `from the revocation's 200 answer to the first 401: p50 ${f(after.p50)} ms, p99 ${f(after.p99)} ms (negative: refused before the answer arrived)`,
        `requests per round until the refusal: median ${summarize(done.map((r) => r.polls)).p50}; the latency columns are of whole rounds, in ms; server CPU and RSS are the gateway's`,
      ],
    };
  } finally {
    await pool?.close().catch(() => {});
    await gw?.stop().catch(() => {});
    await nodes?.stop().catch(() => {});
    await upstream.stop().catch(() => {});
  }
}

async function run(ctx: CompositeContext): Promise<CompositeOutcome> {
  const rounds = ctx.quick ? 20 : 200;
  const variants: Variant[] = [ONE_NODE];
  const notes: { label: string; note: string }[] = [];
  if (ctx.pg || !ctx.quick) {
    const unreachable = await probePostgres(ctx.env.pgUrl);
    if (unreachable === null) variants.push(TWO_NODES);
    else notes.push({ label: TWO_NODES.label, note: `not measured: ${unreachable}` });
  }
  const outcomes: SubjectOutcome[] = [];
  const loads: LoadResult[] = [];
  const failures = [];
  for (const v of variants) {
    const who = { serverId: v.serverId, label: v.label, role: 'jitgate' as const };
    ctx.log(`${v.label}: ${rounds} rounds`);
    try {
      const load = await measureVariant(ctx, v, rounds);
      loads.push(load);
      ctx.log(`${v.label}: p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms over ${load.requests} rounds`);
      outcomes.push({ ...who, target: { kind: 'p99', maxMs: v.targetMs }, load });
    } catch (err) {
      const failure = await asFailure(who, err);
      failures.push(failure);
      outcomes.push({ ...who, target: { kind: 'p99', maxMs: v.targetMs }, failure });
    }
  }
  return {
    loads,
    failures,
    // The rate column counts rounds per second (one revocation each); the target is on the p99 of rounds.
    comparisons: compare('revocation_latency', outcomes, 'event').map((c) => ({
      ...c,
      targetText: `p99 ≤ ${c.target?.kind === 'p99' ? c.target.maxMs : '?'} ms from revocation to refusal`,
    })),
    subjectNotes: notes,
    servers: [{ label: 'jitgate gateway', describe: '`jitgate gateway --policy <bench policy with an upstream> --server <jitgate serve, SQLite>`, its own process' }],
  };
}

export const revocationLatency: CompositeCase = {
  kind: 'composite',
  name: 'revocation_latency',
  summary:
    'How long the gateway still lets a revoked token through. Each round gets a fresh token — a baseline token, or (every ' +
    'other round) an elevated token under a grant just requested, approved and exchanged — checks that the gateway (its ' +
    'own process) lets it through, then sends the revocation (RFC 7009 for the token; an operator\'s grant revocation ' +
    'through the REST API) while a loop sends requests with that token back to back, and records the time from sending ' +
    'the revocation to the first 401. On one node (SQLite), the gateway is fed by that node: target p99 ≤ ' +
    `${ONE_NODE_P99_MS} ms. On two nodes sharing PostgreSQL (when reachable), revocations go through node A and the ` +
    `gateway is fed by node B: target p99 ≤ ${TWO_NODES_P99_MS} ms. 200 rounds each (20 with --quick; PostgreSQL with ` +
    '--quick only when --pg is given).',
  run,
};
