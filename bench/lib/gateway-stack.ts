/**
 * The processes of the gateway cases: the upstream API, one or two jitgate
 * server nodes, the gateway (`jitgate gateway`) and the plain proxy, each
 * its own Node process so each one's CPU and memory are measured apart from
 * the load generator. The policy is the bench policy with a resource the
 * gateway serves, written to the run's directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startChildServer } from './child-server.js';
import {
  APPROVER_CLIENT_ID,
  APPROVER_CLIENT_SECRET,
  BENCH_CLIENT_ID,
  BENCH_CLIENT_SECRET,
  BENCH_RESOURCE,
  ELEVATED_SCOPE,
  REQUESTER_CLIENT_ID,
  REQUESTER_CLIENT_SECRET,
} from './fixture.js';
import type { RunningServer, StartEnv } from './types.js';

/** The gateway's own client (needs `jitgate:gateway`) and an operator that revokes grants (`jitgate:admin`). Benchmark fixtures, not credentials. */
export const GATEWAY_CLIENT_ID = 'bench-gateway';
export const GATEWAY_CLIENT_SECRET = 'bench-gateway-secret-5e1f0c9a7b3d2e4f6a8c0b1d';
export const ADMIN_CLIENT_ID = 'bench-admin';
export const ADMIN_CLIENT_SECRET = 'bench-admin-secret-a4c2e6f8b0d1c3e5f7a9b2d4';

/** Routes of the served resource: `read:logs` (the bench client's baseline) for items, the elevated scope for admin. */
export const ITEMS_PATH = '/items/42';
export const ADMIN_PATH = '/admin/deploys';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The bench policy plus the resource's upstream and routes, and the gateway and operator clients. */
export function gatewayPolicyText(upstream: string): string {
  return `version: 1
timezone: UTC
scopes:
  read:logs: { risk: low }
  ${ELEVATED_SCOPE}: { risk: high, max_ttl: 1h }
  jitgate:gateway: { risk: low }
  jitgate:admin: { risk: medium }
resources:
  - audience: ${BENCH_RESOURCE}
    environment: bench
    scopes: [read:logs, ${ELEVATED_SCOPE}]
    upstream: ${upstream}
    routes:
      - { method: GET, path: "/items/**", scopes: [read:logs] }
      - { method: GET, path: "/admin/**", scopes: [${ELEVATED_SCOPE}] }
groups:
  bench-approvers: { members: [client:${APPROVER_CLIENT_ID}] }
clients:
  ${BENCH_CLIENT_ID}: { environment: bench, secret_sha256: "${sha256(BENCH_CLIENT_SECRET)}", baseline: [read:logs] }
  ${REQUESTER_CLIENT_ID}: { environment: bench, secret_sha256: "${sha256(REQUESTER_CLIENT_SECRET)}", baseline: [read:logs], eligible: [${ELEVATED_SCOPE}] }
  ${APPROVER_CLIENT_ID}: { environment: bench, secret_sha256: "${sha256(APPROVER_CLIENT_SECRET)}", baseline: [read:logs] }
  ${GATEWAY_CLIENT_ID}: { secret_sha256: "${sha256(GATEWAY_CLIENT_SECRET)}", baseline: [jitgate:gateway] }
  ${ADMIN_CLIENT_ID}: { secret_sha256: "${sha256(ADMIN_CLIENT_SECRET)}", baseline: [jitgate:admin] }
rules:
  - name: bench deploys need one approver
    match: { scopes: [${ELEVATED_SCOPE}] }
    stages:
      - { approvers: [bench-approvers], count: 1 }
default_decision: deny
`;
}

/** Every JITGATE_* variable of this process, unset: only what a case sets reaches the children. */
function scrubbed(): Record<string, undefined> {
  return Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('JITGATE_')).map((k) => [k, undefined]));
}

function peer(env: StartEnv, id: string, script: string, extra: string[] = []): Promise<RunningServer> {
  return freePort().then((port) =>
    startChildServer({ id, args: ['--import', 'tsx', script, '--port', String(port), ...extra], cwd: env.rootDir, env: {}, port, readyPath: '/', logDir: env.workDir }),
  );
}

/** The upstream API (bench/peers/upstream.ts). */
export const startUpstream = (env: StartEnv) => peer(env, 'upstream', 'bench/peers/upstream.ts');

/** The plain pass-through proxy to `upstream` (bench/peers/plain-proxy.ts). */
export const startPlainProxy = (env: StartEnv, upstream: string) => peer(env, 'plain-proxy', 'bench/peers/plain-proxy.ts', ['--upstream', upstream]);

/** Writes the gateway policy for `upstream` into the run's directory; returns its path. */
export async function writeGatewayPolicy(env: StartEnv, upstream: string): Promise<string> {
  const path = join(env.workDir, `gateway-policy-${randomBytes(4).toString('hex')}.yaml`);
  await writeFile(path, gatewayPolicyText(upstream));
  return path;
}

export interface NodeOptions {
  id: string;
  policyPath: string;
  dbUrl: string;
  /** The public issuer; every node behind one issuer shares it. Default the node's own URL. */
  issuer?: string;
  port?: number;
  /** JITGATE_KEK for PostgreSQL (nodes of one database share it). */
  kek?: string;
}

/** A `jitgate serve` node. */
export async function startNode(env: StartEnv, o: NodeOptions): Promise<RunningServer> {
  const port = o.port ?? (await freePort());
  const issuer = o.issuer ?? `http://127.0.0.1:${port}`;
  return startChildServer({
    id: o.id,
    args: ['bin/jitgate.js', 'serve', '--policy', o.policyPath, '--db', o.dbUrl, '--port', String(port), '--host', '127.0.0.1', '--issuer', issuer, '--log-level', 'warn'],
    cwd: env.rootDir,
    env: { ...scrubbed(), ...(o.kek ? { JITGATE_KEK: o.kek } : {}) },
    port,
    readyPath: '/.well-known/oauth-authorization-server',
    logDir: env.workDir,
    readyTimeoutMs: 60_000,
  });
}

/** `jitgate gateway` fed by `server`; ready once its feed has caught up (it then answers 401 to a request without a token). */
export async function startGatewayProcess(env: StartEnv, policyPath: string, server: string, extraArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  return startChildServer({
    id: 'jitgate-gateway',
    args: ['bin/jitgate.js', 'gateway', '--policy', policyPath, '--server', server, '--port', String(port), '--client-id', GATEWAY_CLIENT_ID, '--log-level', 'warn', ...extraArgs],
    cwd: env.rootDir,
    env: { ...scrubbed(), JITGATE_GATEWAY_CLIENT_SECRET: GATEWAY_CLIENT_SECRET },
    port,
    readyPath: ITEMS_PATH,
    readyStatus: 401,
    logDir: env.workDir,
    readyTimeoutMs: 60_000,
  });
}

/** Stops processes in reverse order of start, ignoring failures to stop. */
export async function stopAll(servers: (RunningServer | null | undefined)[]): Promise<void> {
  for (const s of [...servers].reverse()) if (s) await s.stop().catch(() => {});
}

/** A fresh SQLite database URL in the run's directory. */
export function sqliteUrl(env: StartEnv, name: string): string {
  return `sqlite:${join(env.workDir, `${name}-${randomBytes(4).toString('hex')}`, 'bench.db')}`;
}

export const newKek = () => randomBytes(32).toString('base64');
