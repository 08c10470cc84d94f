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
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sqliteUrl, startNode } from './lib/gateway-stack.js';
import { tokenPlan } from './cases/client-credentials.js';
import { readCpuSeconds, readThreadCpuSeconds } from './lib/proc-stats.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, connections: { type: 'string', default: '50' } } });
const durationS = Number(values.duration);
const connections = Number(values.connections);
if (!(durationS > 0) || !Number.isInteger(connections) || connections < 1) {
  process.stderr.write('token-main-thread: --duration needs a positive number of seconds and --connections a whole number ≥ 1\n');
  process.exit(2);
}

const workDir = await mkdtemp(join(tmpdir(), 'jitgate-token-threads-'));
const env = { workDir, rootDir: process.cwd(), pgUrl: '' };
const server = await startNode(env, { id: 'jitgate-sqlite', policyPath: 'bench/policy.yaml', dbUrl: sqliteUrl(env, 'tokens') });
try {
  const plan = await tokenPlan(server);
  const fire = (duration: number) => autocannon({ url: plan.url, method: 'POST', headers: plan.headers, body: plan.bodies[0]!, connections, duration });
  await fire(2);
  const [main0, all0, client0] = [await readThreadCpuSeconds(server.pid, server.pid), await readCpuSeconds(server.pid), process.cpuUsage()];
  const r = await fire(durationS);
  const [main1, all1, client] = [await readThreadCpuSeconds(server.pid, server.pid), await readCpuSeconds(server.pid), process.cpuUsage(client0)];
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
