/**
 * grants_rss: the memory of a server whose database holds 100,000 active
 * grants (and as many live tokens), beside one that holds none, each under
 * the same load of introspections and token exchanges by a client with grants
 * of its own among them. No target: the figure is for the record.
 */
import { asFailure, asLoad } from '../lib/composite.js';
import { closedLoad } from '../lib/http-loads.js';
import { readMemory } from '../lib/proc-stats.js';
import { elevationLoads, startSeededNode } from '../lib/seeded-node.js';
import type { CompositeCase, CompositeContext, CompositeOutcome, LoadResult, RunningServer } from '../lib/types.js';

const GRANTS = 100_000;
/** Grants (and elevated tokens) the load's client makes through the real flow before the load. */
const OWN_GRANTS = 16;

const mib = (kib: number) => kib / 1024;

async function run(ctx: CompositeContext): Promise<CompositeOutcome> {
  const out: CompositeOutcome = { loads: [], failures: [], comparisons: [] };
  if (ctx.quick) {
    // Two seeded servers and their loads do not fit in the quick run's two minutes; a full run measures them.
    out.subjectNotes = [{ label: 'grants_rss', note: 'not run with --quick' }];
    return out;
  }
  const big = GRANTS;
  const rows = ['| seeded grants and tokens | RSS idle after start | RSS after the load | peak RSS (VmHWM) | req/s | p99 ms | seeding |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const n of [0, big]) {
    const who = { serverId: `jitgate-sqlite-${n}`, label: `jitgate (SQLite), ${n.toLocaleString('en-US')} grants`, role: 'jitgate' as const };
    let node: RunningServer | null = null;
    try {
      ctx.log(`${who.label}: seeding and starting`);
      const seeded = await startSeededNode(ctx.env, n, n);
      node = seeded.node;
      // Settled: start-up work (migrations check, sweeps, key load) done, nothing asked yet.
      await new Promise((r) => setTimeout(r, 1000));
      const idle = await readMemory(node.pid);
      const loads = await elevationLoads(node, OWN_GRANTS);
      const figures = await closedLoad(node.pid, loads.mixed, ctx.settings);
      const after = await readMemory(node.pid);
      const load: LoadResult = asLoad(
        figures,
        who,
        `introspection of one of ${OWN_GRANTS} elevated tokens (each under its own grant) and the exchange of the requester's baseline token, alternating`,
        {
          facts: [
            `RSS ${mib(idle.rssKiB).toFixed(0)} MiB idle after start, ${mib(after.rssKiB).toFixed(0)} MiB after the load, peak ${mib(after.hwmKiB).toFixed(0)} MiB; ` +
              `${n.toLocaleString('en-US')} grants and ${n.toLocaleString('en-US')} tokens seeded in ${(seeded.seedMs / 1000).toFixed(1)} s`,
          ],
        },
      );
      out.loads.push(load);
      rows.push(
        `| ${n.toLocaleString('en-US')} | ${mib(idle.rssKiB).toFixed(0)} MiB | ${mib(after.rssKiB).toFixed(0)} MiB | ${mib(after.hwmKiB).toFixed(0)} MiB | ` +
          `${Math.round(load.rps).toLocaleString('en-US')} | ${load.p99Ms} | ${(seeded.seedMs / 1000).toFixed(1)} s |`,
      );
      ctx.log(`${who.label}: RSS idle ${mib(idle.rssKiB).toFixed(0)} MiB, after ${mib(after.rssKiB).toFixed(0)} MiB, peak ${mib(after.hwmKiB).toFixed(0)} MiB, ${Math.round(load.rps)} req/s`);
    } catch (err) {
      out.failures.push(await asFailure(who, err, node ? [node] : []));
    } finally {
      await node?.stop().catch(() => {});
    }
  }
  out.comparisons = out.loads.map((l) => ({
    caseName: 'grants_rss',
    jitgate: l.label,
    jitgateRps: l.rps,
    peer: null,
    peerRps: null,
    ratio: null,
    target: null,
    verdict: l.problems.length ? ('invalid' as const) : ('reference' as const),
    why: l.problems.length ? l.problems.join('; ') : null,
  }));
  out.tables = [`Server memory by the number of active grants in its database:\n\n${rows.join('\n')}`];
  return out;
}

export const grantsRss: CompositeCase = {
  kind: 'composite',
  name: 'grants_rss',
  summary:
    `The memory of a jitgate server (SQLite) whose database holds ${GRANTS.toLocaleString('en-US')} active grants and as many ` +
    `live tokens, written into the tables before it starts and spread ` +
    `over 1,000 principals, beside a server with none. On each, the requester makes ${OWN_GRANTS} grants through the real flow, ` +
    'then a fixed load alternates introspections of its elevated tokens with exchanges of its baseline token (both look ' +
    'their token and grant up by index in tables that hold the seeded rows). RSS is read from /proc idle after start and after the load; no target. Not run with --quick.',
  run,
};
