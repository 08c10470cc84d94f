/**
 * gateway: what the enforcement gateway costs over a plain pass-through
 * proxy on the same stack (node:http + a pooled undici client, streaming),
 * both in front of the same upstream, in the same run:
 *
 * - the most each answers (autocannon, N connections): the gateway must
 *   reach 80 % of the plain proxy;
 * - p99 of both at half of the gateway's maximum, requests started at a
 *   fixed rate by a lean generator in its own process, in rounds that take
 *   turns: the gateway may add at most 1 ms. Meanwhile the generator,
 *   upstream and server node are confined to one CPU so that the other is
 *   the measured proxy's alone (bench/lib/cpu-pinning.ts), as separate load
 *   machines would.
 *
 * The gateway runs as `jitgate gateway` (its own process, fed by a
 * `jitgate serve` node on SQLite); every request carries one of 64 bearer
 * tokens, so the gateway checks a token, its audience, expiry, revocations
 * and the route's scopes each time (verified signatures are cached, as in
 * production).
 */
import { BENCH_RESOURCE, clientCredentialsBody } from '../lib/fixture.js';
import { endpoint, requestAccessTokens } from '../lib/oauth-client.js';
import { asFailure, asLoad, compositeSettings } from '../lib/composite.js';
import { closedLoad, interleavedOpenLoads, type HttpLoad } from '../lib/http-loads.js';
import { ITEMS_PATH, sqliteUrl, startGatewayProcess, startNode, startPlainProxy, startUpstream, stopAll, writeGatewayPolicy } from '../lib/gateway-stack.js';
import { compare, type SubjectOutcome } from '../lib/verdict.js';
import { pinApart, pinned, type NoPinning, type Pinning } from '../lib/cpu-pinning.js';
import { pairedP99DifferenceInterval, type DifferenceInterval } from '../lib/bootstrap.js';
import type { Comparison, CompositeCase, CompositeContext, CompositeOutcome, LoadResult, RunningServer } from '../lib/types.js';

/** Distinct tokens cycled through, as many callers would send. */
const TOKEN_POOL = 64;
export const MIN_RATIO = 0.8;
export const MAX_ADDED_P99_MS = 1;
/** Half-load rounds per side, taking turns with the plain proxy: enough for the bootstrap over rounds; the quick run's loads are too short for more than two. */
const HALF_LOAD_ROUNDS = 10;
const QUICK_HALF_LOAD_ROUNDS = 2;
/** Fewer rounds than this cannot bound the added p99: a bootstrap over two or three rounds has only a handful of distinct draws. */
export const MIN_JUDGED_ROUNDS = 5;
const EXPECT = '"ok":true';

type Who = { serverId: string; label: string; role: 'jitgate' | 'peer' };
const GW: Who = { serverId: 'jitgate-gateway', label: 'jitgate gateway', role: 'jitgate' };
const PROXY: Who = { serverId: 'plain-proxy', label: 'plain proxy', role: 'peer' };
const GW_HALF: Who = { serverId: 'jitgate-gateway-half', label: 'jitgate gateway at half load', role: 'jitgate' };
const PROXY_HALF: Who = { serverId: 'plain-proxy-half', label: 'plain proxy at half load', role: 'peer' };
const PROXY_SCALED: Who = { serverId: 'plain-proxy-scaled', label: "plain proxy at half load × the gateway's CPU per request", role: 'peer' };

/** Sends every request of `load` once through `proxy` and checks the upstream's answer came back. */
async function checkPasses(proxy: RunningServer, load: HttpLoad): Promise<void> {
  for (const r of load.requests) {
    const res = await fetch(proxy.baseUrl + r.path, { headers: r.headers });
    const text = await res.text();
    if (res.status !== 200 || !text.includes(EXPECT)) throw new Error(`${proxy.id} answered ${res.status} instead of the upstream's 200 before the load`);
  }
}

/**
 * The added-p99 verdict: gateway p99 minus plain-proxy p99, both at the same
 * fixed rate, latencies pooled over the rounds, judged with its 90 %
 * interval from a paired bootstrap over the rounds (bench/lib/bootstrap.ts).
 * A pass must hold at the interval's top, a fail at its bottom; an interval
 * that straddles the limit cannot tell, and says so.
 */
export function addedP99(gw: LoadResult | undefined, px: LoadResult | undefined, interval: DifferenceInterval | null): Comparison {
  const base = {
    caseName: 'gateway',
    jitgate: 'jitgate gateway, added p99 at half load',
    jitgateRps: gw?.rps ?? null,
    peer: PROXY_HALF.label,
    peerRps: px?.rps ?? null,
    unit: 'request' as const,
    ratio: null,
    target: { kind: 'p99' as const, maxMs: MAX_ADDED_P99_MS },
    targetText: `added p99 ≤ ${MAX_ADDED_P99_MS} ms`,
  };
  if (!gw || !px) return { ...base, p99Ms: null, verdict: 'invalid', why: 'a half-load figure is missing (see details)' };
  const dirty = [gw, px].find((l) => l.problems.length > 0);
  if (dirty) return { ...base, p99Ms: null, verdict: 'invalid', why: `${dirty.label}: ${dirty.problems.join('; ')}` };
  const added = gw.p99Ms - px.p99Ms;
  if (!interval) {
    return { ...base, p99Ms: added, verdict: 'invalid', why: `added p99 ${added.toFixed(3)} ms, not judged: fewer than ${MIN_JUDGED_ROUNDS} rounds cannot bound it (the full run has ${HALF_LOAD_ROUNDS})` };
  }
  const text =
    `added p99 ${added.toFixed(3)} ms, ${Math.round(interval.level * 100)} % interval ${interval.low.toFixed(3)} to ${interval.high.toFixed(3)} ms ` +
    `(paired bootstrap over the rounds)`;
  if (interval.high <= MAX_ADDED_P99_MS) return { ...base, p99Ms: added, verdict: 'pass', why: text };
  if (interval.low > MAX_ADDED_P99_MS) return { ...base, p99Ms: added, verdict: 'fail', why: `${text} > ${MAX_ADDED_P99_MS} ms` };
  return { ...base, p99Ms: added, verdict: 'invalid', why: `inconclusive: ${text}; the interval straddles ${MAX_ADDED_P99_MS} ms` };
}

async function run(ctx: CompositeContext): Promise<CompositeOutcome> {
  const { env, log } = ctx;
  const settings = compositeSettings(ctx.settings, ctx.quick);
  const loads: LoadResult[] = [];
  const out: CompositeOutcome = { loads, failures: [], comparisons: [] };
  let upstream: RunningServer | null = null;
  let node: RunningServer | null = null;
  let gw: RunningServer | null = null;
  let proxy: RunningServer | null = null;
  let step: Who = GW;
  let interval: DifferenceInterval | null = null;
  try {
    log('starting the upstream, a jitgate node (SQLite) and the gateway');
    upstream = await startUpstream(env);
    const policyPath = await writeGatewayPolicy(env, upstream.baseUrl);
    node = await startNode(env, { id: 'jitgate-sqlite', policyPath, dbUrl: sqliteUrl(env, 'gateway') });
    gw = await startGatewayProcess(env, policyPath, node.baseUrl);
    const tokens = await requestAccessTokens(endpoint(node, 'token_endpoint'), clientCredentialsBody(BENCH_RESOURCE), TOKEN_POOL);
    const requests = tokens.map((t) => ({ method: 'GET' as const, path: ITEMS_PATH, headers: { authorization: `Bearer ${t}` } }));
    const gwLoad: HttpLoad = { origin: gw.baseUrl, requests, expectBody: EXPECT };
    await checkPasses(gw, gwLoad);
    const describe = `GET ${ITEMS_PATH} with Authorization: Bearer <one of ${TOKEN_POOL} jitgate access tokens for ${BENCH_RESOURCE}>; the upstream answers a ${'~90'} byte JSON body`;

    log(`most the gateway answers: warm-up ${settings.warmupS} s, then ${settings.durationS} s with ${settings.connections} connections`);
    const gwMax = asLoad(await closedLoad(gw.pid, gwLoad, settings), GW, describe);
    loads.push(gwMax);
    log(`gateway: ${Math.round(gwMax.rps)} req/s, p99 ${gwMax.p99Ms} ms, CPU ${gwMax.serverCpuPct?.toFixed(0)}%`);

    step = PROXY;
    proxy = await startPlainProxy(env, upstream.baseUrl);
    const pxLoad: HttpLoad = { ...gwLoad, origin: proxy.baseUrl };
    await checkPasses(proxy, pxLoad);
    const pxMax = asLoad(await closedLoad(proxy.pid, pxLoad, settings), PROXY, describe);
    loads.push(pxMax);
    log(`plain proxy: ${Math.round(pxMax.rps)} req/s, p99 ${pxMax.p99Ms} ms, CPU ${pxMax.serverCpuPct?.toFixed(0)}%`);

    const rate = Math.max(1, Math.round(gwMax.rps / 2));
    const rounds = ctx.quick ? QUICK_HALF_LOAD_ROUNDS : HALF_LOAD_ROUNDS;
    const halfDescribe =
      `${describe}; started at a fixed ${rate.toLocaleString('en-US')} req/s (half of the gateway's most), timed from start to the end of the body; ` +
      `${rounds} rounds of ${(settings.durationS / rounds).toFixed(1)} s taking turns with the plain proxy, latencies pooled`;
    step = GW_HALF;
    log(`both at ${rate} req/s, ${rounds} rounds each, taking turns`);
    // A reference beside the two: the plain proxy driven faster by the ratio of the two processes' CPU per request at their
    // most, so that it spends about what the gateway spends at half load. How much of the added p99 that CPU alone explains.
    const cpuRatio = gwMax.serverCpuUsPerReq && pxMax.serverCpuUsPerReq ? gwMax.serverCpuUsPerReq / pxMax.serverCpuUsPerReq : 1;
    const scaledRate = Math.round(rate * cpuRatio);
    let pinning: Pinning | NoPinning = { why: 'not tried' };
    const measured = [gw.pid, proxy.pid];
    const others = [process.pid, upstream.pid, node.pid];
    let half;
    try {
      half = await interleavedOpenLoads(
        // The reference costs a third of the phase: the quick run leaves it out.
        [{ pid: gw.pid, load: gwLoad }, { pid: proxy.pid, load: pxLoad }, ...(ctx.quick ? [] : [{ pid: proxy.pid, load: pxLoad, rate: scaledRate }])],
        rate,
        settings,
        rounds,
        { onDriver: async (driverPid) => void (pinning = await pinApart(measured, [...others, driverPid])) },
      );
    } finally {
      if (pinned(pinning)) await pinning.release();
    }
    log(pinned(pinning) ? `half load with ${pinning.describe}` : `half load unpinned: ${pinning.why}`);
    const gwHalf = asLoad(half.figures[0]!, GW_HALF, halfDescribe);
    const pxHalf = asLoad(half.figures[1]!, PROXY_HALF, halfDescribe);
    const pxScaled = half.figures[2] && asLoad(half.figures[2], PROXY_SCALED, halfDescribe.replace(`a fixed ${rate.toLocaleString('en-US')} req/s (half of the gateway's most)`, `a fixed ${scaledRate.toLocaleString('en-US')} req/s (half load × ${cpuRatio.toFixed(2)}, the gateway's CPU per request over the plain proxy's at their most)`));
    loads.push(gwHalf, pxHalf, ...(pxScaled ? [pxScaled] : []));
    log(`half load p99: gateway ${gwHalf.p99Ms} ms, plain proxy ${pxHalf.p99Ms} ms`);
    const [gwRounds, pxRounds] = half.roundP99Ms as [number[], number[]];
    if (rounds >= MIN_JUDGED_ROUNDS) interval = pairedP99DifferenceInterval(half.roundLatenciesMs[0]!, half.roundLatenciesMs[1]!);
    const roundAdded = gwRounds.map((g, i) => g - pxRounds[i]!);
    const median = [...roundAdded].sort((a, b) => a - b)[Math.floor(roundAdded.length / 2)]!;
    gwHalf.facts = [
      `at ${rate.toLocaleString('en-US')} req/s: p50 ${gwHalf.p50Ms} ms through the gateway against ${pxHalf.p50Ms} ms through the plain proxy; ` +
        `p99 ${gwHalf.p99Ms} ms against ${pxHalf.p99Ms} ms (added p99 ${(gwHalf.p99Ms - pxHalf.p99Ms).toFixed(3)} ms)`,
      `p99 per round, gateway: ${gwRounds.map((x) => x.toFixed(2)).join(', ')} ms; plain proxy: ${pxRounds.map((x) => x.toFixed(2)).join(', ')} ms; ` +
        `added p99 per round ${roundAdded.map((x) => x.toFixed(2)).join(', ')} ms (median ${median.toFixed(2)} ms)`,
      pinned(pinning) ? `CPUs: ${pinning.describe}` : `CPUs: not pinned (${pinning.why})`,
      `CPU per request at the same rate: gateway ${gwHalf.serverCpuUsPerReq?.toFixed(0)} µs, plain proxy ${pxHalf.serverCpuUsPerReq?.toFixed(0)} µs`,
      pxScaled
        ? `the plain proxy at ${scaledRate.toLocaleString('en-US')} req/s (× ${cpuRatio.toFixed(2)}, the gateway's CPU per request over its own at their most): ` +
          `p99 ${pxScaled.p99Ms} ms, ${(pxScaled.p99Ms - pxHalf.p99Ms).toFixed(3)} ms over its own at half load (a reference: what that much more CPU does to the tail on this machine)`
        : 'the plain proxy at the gateway\'s CPU per request (a reference of the full run): not measured in the quick run',
    ];
  } catch (err) {
    out.failures.push(await asFailure(step, err, [gw, proxy, node, upstream].filter((s): s is RunningServer => s !== null)));
  } finally {
    await stopAll([upstream, node, gw, proxy]);
  }
  const outcome = (who: Who, target: SubjectOutcome['target'] = null): SubjectOutcome => {
    const load = loads.find((l) => l.serverId === who.serverId);
    const failure = out.failures.find((f) => f.serverId === who.serverId);
    return { ...who, target, ...(load ? { load } : {}), ...(failure ? { failure } : {}), ...(who.role === 'peer' ? { against: [GW.serverId] } : {}) };
  };
  out.comparisons = [
    ...compare('gateway', [outcome(GW), outcome(PROXY, { kind: 'ratio', min: MIN_RATIO })]),
    addedP99(
      loads.find((l) => l.serverId === GW_HALF.serverId),
      loads.find((l) => l.serverId === PROXY_HALF.serverId),
      interval,
    ),
  ];
  out.servers = [
    { label: 'jitgate gateway', describe: '`jitgate gateway --policy <bench policy with an upstream> --server <jitgate serve, SQLite>`, its own process' },
    { label: 'plain proxy', describe: 'node:http server + one undici Pool (64 connections, keep-alive) streaming to the upstream, no auth: the ceiling for the gateway (bench/peers/plain-proxy.ts)' },
    { label: 'upstream', describe: 'node:http server answering every path with a small fixed JSON body (bench/peers/upstream.ts)' },
  ];
  return out;
}

export const gateway: CompositeCase = {
  kind: 'composite',
  name: 'gateway',
  summary:
    'The enforcement gateway (`jitgate gateway`, its own process) against a plain pass-through proxy on the same stack ' +
    '(node:http server, one pooled undici client with keep-alive, bodies streamed) with no auth, both in front of the same ' +
    'upstream. Each request carries one of 64 bearer tokens; the gateway checks the token (signature cached after the first ' +
    'time), audience, expiry, the revocations fed by the server and the route\'s scopes, swaps the credentials and forwards. ' +
    `First the most each answers (autocannon): the gateway must reach ${MIN_RATIO * 100} % of the plain proxy. Then both at ` +
    'half of the gateway\'s most, requests started at a fixed rate by a raw-socket generator in its own process and timed to ' +
    'the microsecond, with the generator, upstream and server node confined to one CPU so that the other is the measured proxy\'s alone, in short rounds that take ' +
    'turns (gateway, proxy, proxy, gateway, …) so that drift in the machine\'s load weighs on both alike, latencies pooled per side: ' +
    `the gateway may add at most ${MAX_ADDED_P99_MS} ms to the p99, judged by the 90 % interval of the added p99 from a paired ` +
    `bootstrap over the rounds (a pass must hold at its top, a fail at its bottom; at least ${MIN_JUDGED_ROUNDS} rounds).`,
  run,
};
