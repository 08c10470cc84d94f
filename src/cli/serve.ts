import type { Command } from 'commander';
import { resolve } from 'node:path';
import { resolveDbUrl, DB_OPTION_HELP } from './db-option.js';
import { parseDuration } from '../policy/duration.js';

export const DEFAULT_PORT = 8080;

interface ServeFlags {
  policy?: string;
  db?: string;
  port?: string;
  host: string;
  issuer?: string;
  watch?: boolean;
  logLevel?: string;
  accessLog?: boolean;
  tokenTtl?: string;
  requestTtl?: string;
  maxGrant?: string;
  mfaMaxAge?: string;
  refreshTtl?: string;
  refreshIdle?: string;
  trustProxy?: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the authorization server (OAuth endpoints, JWKS, introspection, revocation)')
    .option('--policy <file>', 'policy file (env JITGATE_POLICY)')
    .option('--db <url>', DB_OPTION_HELP)
    .option('--port <n>', `port to listen on (env JITGATE_PORT; default ${DEFAULT_PORT})`)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--issuer <url>', 'public issuer URL (env JITGATE_ISSUER; default http://HOST:PORT)')
    .option('--watch', 'reload the policy when the file changes (SIGHUP always reloads)')
    .option('--token-ttl <duration>', 'access token lifetime before scope max_ttl limits (default 15m)')
    .option('--request-ttl <duration>', 'how long an access request may wait for approvers (default 1h)')
    .option('--max-grant <duration>', 'longest grant for a scope without max_ttl (default 8h)')
    .option('--mfa-max-age <duration>', 'how recent MFA must be for mfa scopes (default 15m)')
    .option('--refresh-ttl <duration>', 'absolute lifetime of a refresh token family from the login (default 12h)')
    .option('--refresh-idle <duration>', 'a refresh token unused this long expires (default 4h)')
    .option('--trust-proxy', 'take the client address from X-Forwarded-For (behind a reverse proxy)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env JITGATE_LOG_LEVEL; default info)')
    .option('--access-log', 'log one JSON line per answered request (off by default: it costs throughput)')
    .addHelpText(
      'after',
      `
Examples:
  jitgate serve --policy policy.yaml
  jitgate serve --policy policy.yaml --db postgres://jitgate@db/jitgate --issuer https://jit.example.com
  JITGATE_KEK=$(openssl rand -base64 32) jitgate serve --policy policy.yaml --db postgres://…

Logs are JSON lines on standard output. GET /metrics (Prometheus) answers
loopback callers, or any caller sending JITGATE_METRICS_TOKEN as a Bearer
token; /healthz and /readyz are open (docs/operations.md).

Migrations run at start. A policy with errors is refused at start; on reload
(SIGHUP or --watch) a broken file is logged and the previous policy stays.`,
    )
    .action(async (flags: ServeFlags) => {
      const env = process.env;
      const policyPath = flags.policy ?? env.JITGATE_POLICY;
      if (!policyPath) {
        process.stderr.write('jitgate serve: --policy FILE (or JITGATE_POLICY) is required\n');
        process.exitCode = 2;
        return;
      }
      const port = parsePort(flags.port ?? env.JITGATE_PORT ?? String(DEFAULT_PORT));
      // The server's modules load only when serving, so other verbs start fast.
      const [{ loadPolicyForServer }, { startServer }, { createLogger, resolveLogLevel }] = await Promise.all([
        import('./load-policy.js'),
        import('../http/server.js'),
        import('../metrics/logging.js'),
      ]);
      const log = createLogger(resolveLogLevel(flags.logLevel, env));
      const policy = await loadPolicyForServer(resolve(policyPath));
      if (!policy) {
        process.exitCode = 1;
        return;
      }
      const server = await startServer({
        policy,
        policyPath: resolve(policyPath),
        dbUrl: resolveDbUrl(flags.db, env),
        port,
        host: flags.host,
        issuer: flags.issuer ?? env.JITGATE_ISSUER,
        watch: flags.watch ?? false,
        reloadOnSighup: true,
        trustProxy: flags.trustProxy ?? false,
        metricsToken: env.JITGATE_METRICS_TOKEN || null,
        accessLog: flags.accessLog ?? false,
        config: {
          ...(flags.tokenTtl ? { tokenLifetimeS: seconds(flags.tokenTtl, '--token-ttl') } : {}),
          ...(flags.requestTtl ? { requestTtlS: seconds(flags.requestTtl, '--request-ttl') } : {}),
          ...(flags.maxGrant ? { maxGrantS: seconds(flags.maxGrant, '--max-grant') } : {}),
          ...(flags.mfaMaxAge ? { mfaMaxAgeS: seconds(flags.mfaMaxAge, '--mfa-max-age') } : {}),
          ...(flags.refreshTtl ? { refreshTokenLifetimeS: seconds(flags.refreshTtl, '--refresh-ttl') } : {}),
          ...(flags.refreshIdle ? { refreshTokenIdleS: seconds(flags.refreshIdle, '--refresh-idle') } : {}),
        },
        log,
      });
      process.stderr.write(`jitgate listening on ${server.url} (issuer ${server.ctx.config.issuer}, db ${server.ctx.store.display})\n`);
      const stop = async (signal: string) => {
        log.info({ signal }, 'shutting down');
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`port must be 0–65535, got ${raw}`);
  return n;
}

/** A duration flag: seconds (`900`) or `15m`, `1h30m`. */
function seconds(raw: string, name: string): number {
  const n = parseDuration(/^\d+$/.test(raw) ? Number(raw) : raw);
  if (n === null || n <= 0) throw new Error(`${name} must be a duration such as 900, 15m or 1h30m`);
  return n;
}
