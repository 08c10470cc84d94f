import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { DEFAULT_PORT } from './serve.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/policy.yaml', import.meta.url));
const DEMO_CLIENT = 'ci-pipeline';

interface DemoFlags {
  port: string;
  dir: string;
}

/**
 * The whole product on the embedded default: the example policy with a
 * client secret made for this run, SQLite under ./data/demo, and the commands
 * to try printed for the user.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run the server on SQLite with the example policy and print what to try')
    .option('--port <n>', 'port to listen on', String(DEFAULT_PORT))
    .option('--dir <path>', 'where the demo keeps its database and policy', 'data/demo')
    .action(async (flags: DemoFlags) => {
      const dir = resolve(flags.dir);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const secret = randomBytes(32).toString('base64url');
      const doc = parseDocument(readFileSync(EXAMPLE, 'utf8'));
      doc.setIn(['clients', DEMO_CLIENT, 'secret_sha256'], createHash('sha256').update(secret).digest('hex'));
      const policyPath = join(dir, 'policy.yaml');
      writeFileSync(policyPath, doc.toString(), { mode: 0o600 });

      const [{ loadPolicyForServer }, { startServer }, { pino }] = await Promise.all([
        import('./load-policy.js'),
        import('../http/server.js'),
        import('pino'),
      ]);
      const policy = await loadPolicyForServer(policyPath);
      if (!policy) {
        process.exitCode = 1;
        return;
      }
      const server = await startServer({
        policy,
        policyPath,
        dbUrl: `sqlite:${join(dir, 'jitgate.db')}`,
        port: Number(flags.port),
        reloadOnSighup: true,
        log: pino({ level: 'warn' }),
      });
      process.stdout.write(demoInstructions(server.url, secret, policyPath));
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}

export function demoInstructions(url: string, secret: string, policyPath: string): string {
  const pick = `sed -E 's/.*"access_token":"([^"]+)".*/\\1/'`;
  return `
jitgate demo is running at ${url}
  policy:   ${policyPath}   (edit it; kill -HUP ${process.pid} reloads it)
  client:   ${DEMO_CLIENT}, secret for this run: ${secret}

Try it in another terminal:

  # 1. discover the server and its keys
  curl -s ${url}/.well-known/oauth-authorization-server
  curl -s ${url}/jwks

  # 2. a baseline token (client_credentials): only the narrow standing scopes
  export SECRET='${secret}'
  curl -s -u ${DEMO_CLIENT}:$SECRET -d grant_type=client_credentials ${url}/token
  TOKEN=$(curl -s -u ${DEMO_CLIENT}:$SECRET -d grant_type=client_credentials ${url}/token | ${pick})

  # 3. an elevated scope is refused: it needs an access request
  curl -s -u ${DEMO_CLIENT}:$SECRET -d grant_type=client_credentials -d scope=deploy:prod ${url}/token

  # 4. introspect, revoke, introspect again (inactive at once)
  curl -s -u ${DEMO_CLIENT}:$SECRET -d token=$TOKEN ${url}/introspect
  curl -s -u ${DEMO_CLIENT}:$SECRET -d token=$TOKEN ${url}/revoke
  curl -s -u ${DEMO_CLIENT}:$SECRET -d token=$TOKEN ${url}/introspect

Press Ctrl-C to stop.
`;
}
