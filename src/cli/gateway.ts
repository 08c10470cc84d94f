/** `jitgate gateway`: the enforcement gateway in front of the policy's resources (docs/gateway.md). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { createLogger, resolveLogLevel } from '../metrics/logging.js';
import { loadPolicyForServer } from './load-policy.js';
import { startGateway } from '../gateway/gateway.js';
import { collect } from './client/options.js';
import { normalizeServerUrl } from './client/server-url.js';

export const DEFAULT_GATEWAY_PORT = 8081;
export const DEFAULT_GATEWAY_CLIENT_ID = 'jitgate-gateway';

interface GatewayFlags {
  policy?: string;
  server?: string;
  port?: string;
  host: string;
  clientId?: string;
  resource?: string[];
  feedMaxAge?: string;
  watch?: boolean;
  logLevel?: string;
  accessLog?: boolean;
}

export function register(program: Command): void {
  program
    .command('gateway')
    .description('run the enforcement gateway: checks jitgate tokens and forwards to the resources’ upstreams')
    .option('--policy <file>', 'policy file naming the resources, upstreams and routes (env JITGATE_POLICY)')
    .option('--server <url>', 'jitgate server the gateway reads keys and revocations from (env JITGATE_SERVER)')
    .option('--port <n>', `port to listen on (env JITGATE_GATEWAY_PORT; default ${DEFAULT_GATEWAY_PORT})`)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--client-id <id>', `the gateway's OAuth client (env JITGATE_GATEWAY_CLIENT_ID; default ${DEFAULT_GATEWAY_CLIENT_ID}); its secret comes from JITGATE_GATEWAY_CLIENT_SECRET`)
    .option('--resource <audience>', 'serve only this resource (repeatable; default every resource with an upstream)', collect)
    .option('--feed-max-age <ms>', 'refuse requests (503) once the revocation feed has been silent this long', '5000')
    .option('--watch', 'reload the policy when the file changes (SIGHUP always reloads)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env JITGATE_LOG_LEVEL; default info)')
    .option('--access-log', 'log one JSON line per forwarded request (refusals are always logged)')
    .addHelpText(
      'after',
      `
Examples:
  JITGATE_GATEWAY_CLIENT_SECRET=… BILLING_API_KEY=… \\
    jitgate gateway --policy policy.yaml --server https://jit.example.com --port 8443

Requests are routed to a resource by their Host header (the host name of the
resource's audience); a gateway serving one resource takes every request.
\${NAME} in inject_headers must be set in the environment or the gateway does
not start. The client needs the jitgate:gateway scope in its baseline.
GET /healthz, /readyz and /metrics are the gateway's own (docs/operations.md);
/metrics answers loopback callers, or JITGATE_METRICS_TOKEN as a Bearer token.`,
    )
    .action(async (flags: GatewayFlags) => {
      const env = process.env;
      const policyPath = flags.policy ?? env.JITGATE_POLICY;
      const serverRaw = flags.server ?? env.JITGATE_SERVER;
      const secret = env.JITGATE_GATEWAY_CLIENT_SECRET;
      const problems: string[] = [];
      if (!policyPath) problems.push('--policy FILE (or JITGATE_POLICY) is required');
      if (!serverRaw) problems.push('--server URL (or JITGATE_SERVER) is required');
      if (!secret) problems.push('JITGATE_GATEWAY_CLIENT_SECRET must hold the gateway client’s secret');
      const maxAge = Number(flags.feedMaxAge);
      if (!Number.isInteger(maxAge) || maxAge < 100) problems.push('--feed-max-age is a whole number of milliseconds, at least 100');
      const port = Number(flags.port ?? env.JITGATE_GATEWAY_PORT ?? DEFAULT_GATEWAY_PORT);
      if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('--port must be 0–65535');
      if (problems.length) {
        for (const p of problems) process.stderr.write(`jitgate gateway: ${p}\n`);
        process.exitCode = 2;
        return;
      }
      const policy = await loadPolicyForServer(resolve(policyPath!));
      if (!policy) {
        process.exitCode = 1;
        return;
      }
      const log = createLogger(resolveLogLevel(flags.logLevel, env));
      const gateway = await startGateway({
        policy,
        policyPath: resolve(policyPath!),
        server: normalizeServerUrl(serverRaw!),
        clientId: flags.clientId ?? env.JITGATE_GATEWAY_CLIENT_ID ?? DEFAULT_GATEWAY_CLIENT_ID,
        clientSecret: secret!,
        port,
        host: flags.host,
        resources: flags.resource,
        feedMaxAgeMs: maxAge,
        metricsToken: env.JITGATE_METRICS_TOKEN || null,
        accessLog: flags.accessLog ?? false,
        watch: flags.watch ?? false,
        reloadOnSighup: true,
        log,
      });
      process.stderr.write(`jitgate gateway listening on ${gateway.url}\n`);
      void gateway.ready.then(() => process.stderr.write('jitgate gateway: revocation feed connected; serving\n'));
      const stop = async (signal: string) => {
        log.info({ signal }, 'shutting down');
        await gateway.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
