/**
 * Where a client_credentials token's CPU goes between threads: the event
 * loop (HTTP, client authentication, claims, the token row and its audit
 * event) and the rest (ECDSA signing on libuv's threadpool, the collector's
 * helpers). The event loop is what bounds one process's throughput; the
 * bench's client_credentials case reports only the whole process.
 *
 *   npx tsx bench/token-main-thread.ts [--duration S] [--connections N]
 *
 * Starts `jitgate serve` on a fresh SQLite database with bench/policy.yaml,
 * warms up 2 s, then loads the token endpoint with autocannon (the bench's
 * request) and prints CPU µs per token: main thread, whole process, and the
 * load generator (this process).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sqliteUrl, startNode } from './lib/gateway-stack.js';
import { tokenPlan } from './cases/client-credentials.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, connections: { type: 'string', default: '50' } } });
const durationS = Number(values.duration);
const connections = Number(values.connections);
const TICKS_PER_S = 100;

/** utime + stime of a /proc stat file, seconds. */
async function cpuSeconds(statPath: string): Promise<number> {
  const fields = (await readFile(statPath, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

const workDir = await mkdtemp(join(tmpdir(), 'jitgate-token-threads-'));
const env = { workDir, rootDir: process.cwd(), pgUrl: '' };
const server = await startNode(env, { id: 'jitgate-sqlite', policyPath: 'bench/policy.yaml', dbUrl: sqliteUrl(env, 'tokens') });
try {
  const plan = await tokenPlan(server);
  const fire = (duration: number) => autocannon({ url: plan.url, method: 'POST', headers: plan.headers, body: plan.bodies[0]!, connections, duration });
  await fire(2);
  const mainStat = `/proc/${server.pid}/task/${server.pid}/stat`;
  const procStat = `/proc/${server.pid}/stat`;
  const [main0, all0, client0] = [await cpuSeconds(mainStat), await cpuSeconds(procStat), process.cpuUsage()];
  const r = await fire(durationS);
  const [main1, all1, client] = [await cpuSeconds(mainStat), await cpuSeconds(procStat), process.cpuUsage(client0)];
  const n = r.requests.total;
  const us = (s: number) => ((s * 1e6) / n).toFixed(0);
  process.stdout.write(
    `${Math.round(r.requests.average)} tokens/s (${n} in ${r.duration.toFixed(1)} s, ${r.non2xx} non-2xx); CPU per token: ` +
      `main thread ${us(main1 - main0)} µs (busy ${(((main1 - main0) / r.duration) * 100).toFixed(0)} %), ` +
      `whole server ${us(all1 - all0)} µs, load generator ${us((client.user + client.system) / 1e6)} µs\n`,
  );
} finally {
  await server.stop();
  await rm(workDir, { recursive: true, force: true });
}
