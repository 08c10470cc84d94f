/**
 * The servers the cases measure. Each runs as its own process, started fresh
 * for every measured load so its CPU time and peak memory belong to that load.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort, startChildServer } from './child-server.js';
import { createBenchSchema } from './pg-schema.js';
import type { RunningServer, ServerSpec, StartEnv } from './types.js';

const POLICY = 'bench/policy.yaml';

/** A policy file a case writes for each start (it may depend on ports known only then), and how the report names it. */
export interface PolicySource {
  label: string;
  /** Writes the file and answers its path. */
  write(env: StartEnv): Promise<string>;
}

const BENCH_POLICY: PolicySource = { label: POLICY, write: async () => POLICY };

/** jitgate on `db`, serving bench/policy.yaml unless another policy is given. */
export function jitgate(id: string, label: string, db: 'sqlite' | 'postgres', policy: PolicySource = BENCH_POLICY): ServerSpec {
  return {
    id,
    label,
    describe:
      db === 'sqlite'
        ? `\`jitgate serve --policy ${policy.label} --db sqlite:<tmp>/bench.db\`, a fresh database per load`
        : `\`jitgate serve --policy ${policy.label} --db postgres://…\` (\`--pg-url\`), a fresh schema per load, a random \`JITGATE_KEK\``,
    async start(env: StartEnv): Promise<RunningServer> {
      const policyPath = await policy.write(env);
      const port = await freePort();
      const schema = db === 'postgres' ? await createBenchSchema(env.pgUrl) : null;
      const dbUrl = schema ? schema.url : `sqlite:${join(env.workDir, `bench-${port}`, 'bench.db')}`;
      const issuer = `http://127.0.0.1:${port}`;
      try {
        const server = await startChildServer({
          id,
          args: ['bin/jitgate.js', 'serve', '--policy', policyPath, '--db', dbUrl, '--port', String(port), '--host', '127.0.0.1', '--issuer', issuer],
          cwd: env.rootDir,
          // Only what is set here reaches jitgate: JITGATE_* of the caller's shell would change what is measured.
          env: { ...scrubbedJitgateEnv(), ...(schema ? { JITGATE_KEK: randomBytes(32).toString('base64') } : {}) },
          port,
          readyPath: '/.well-known/oauth-authorization-server',
          logDir: env.workDir,
          // Start-up runs migrations and creates the first signing key.
          readyTimeoutMs: 60_000,
        });
        if (!schema) return server;
        return {
          ...server,
          async stop() {
            await server.stop();
            await schema.drop();
          },
        };
      } catch (err) {
        await schema?.drop();
        throw err;
      }
    },
  };
}

/** Every JITGATE_* variable of this process, unset. */
function scrubbedJitgateEnv(): Record<string, undefined> {
  return Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('JITGATE_')).map((k) => [k, undefined]));
}

function peer(id: string, label: string, script: string, readyPath: string, describe: string): ServerSpec {
  return {
    id,
    label,
    describe,
    async start(env: StartEnv): Promise<RunningServer> {
      const port = await freePort();
      return startChildServer({
        id,
        args: ['--import', 'tsx', script, '--port', String(port)],
        cwd: env.rootDir,
        env: {},
        port,
        readyPath,
        logDir: env.workDir,
      });
    },
  };
}

export const JITGATE_SQLITE = jitgate('jitgate-sqlite', 'jitgate (SQLite)', 'sqlite');
export const JITGATE_PG = jitgate('jitgate-pg', 'jitgate (PostgreSQL)', 'postgres');

export const OIDC_PROVIDER = peer(
  'oidc-provider',
  'oidc-provider 9',
  'bench/peers/oidc-provider.ts',
  '/.well-known/openid-configuration',
  'oidc-provider 9, default in-memory adapter, client_secret_basic, ES256 JWT access tokens for the bench resource (bench/peers/oidc-provider.ts)',
);

export const BARE_HTTP = peer(
  'bare-http',
  'bare node:http',
  'bench/peers/bare-http.ts',
  '/',
  'node:http server answering every request with a fixed small JSON body: the HTTP ceiling (bench/peers/bare-http.ts)',
);

/** jitgate on the embedded database, plus PostgreSQL when asked for. */
export function jitgateVariants(pg: boolean): ServerSpec[] {
  return pg ? [JITGATE_SQLITE, JITGATE_PG] : [JITGATE_SQLITE];
}
