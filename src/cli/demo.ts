import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORT } from './serve.js';
import { DEFAULT_GATEWAY_PORT } from './gateway.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/policy.yaml', import.meta.url));
/** How long the demo waits for its gateway to catch up with the server's revocation feed before printing anyway. */
const GATEWAY_READY_MS = 20_000;

interface DemoFlags {
  port: string;
  gatewayPort: string;
  dir: string;
}

/**
 * The whole product on the embedded default, on loopback: the server with
 * the example policy (SQLite under ./data/demo), a demo billing API, the
 * gateway in front of it, a demo-only identity provider for the example's
 * people, and the walk-through printed for the user.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run the server, a gateway, a demo API and a demo identity provider on 127.0.0.1, and print a walk-through')
    .option('--port <n>', 'port of the server (0: any free port)', String(DEFAULT_PORT))
    .option('--gateway-port <n>', 'port of the gateway (0: any free port)', String(DEFAULT_GATEWAY_PORT))
    .option('--dir <path>', 'where the demo keeps its database, policy and the demo users’ logins', 'data/demo')
    .addHelpText(
      'after',
      `
Everything listens on 127.0.0.1 only. The demo billing API and the demo
identity provider take any free port; the demo identity provider signs ID
tokens for alice and carol for anyone on this machine who asks, so it exists
only in the demo and is the demo policy's only trusted issuer.

The demo policy is examples/policy.yaml with this run's secrets and URLs,
written to DIR/policy.yaml; the printed steps log alice in, show the gateway's
403, have alice request read:billing and carol approve it, show the 200, have
carol revoke the grant, and show the 401. Each person's logins are kept under
DIR/alice and DIR/carol (XDG_CONFIG_HOME), apart from your own.

Exit status: 0 stopped with Ctrl-C (SIGINT) or SIGTERM; 1 it could not start
(for instance a port is taken: the message names the flag that picks another);
2 a flag is invalid.`,
    )
    .action(async (flags: DemoFlags) => {
      const port = portFlag(flags.port, '--port');
      const gatewayPort = portFlag(flags.gatewayPort, '--gateway-port');
      if (port === null || gatewayPort === null) {
        process.exitCode = 2;
        return;
      }
      try {
        await runDemo(resolve(flags.dir), port, gatewayPort);
      } catch (err) {
        process.stderr.write(`jitgate demo: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

function portFlag(raw: string, flag: string): number | null {
  const n = Number(raw);
  if (/^\d+$/.test(raw) && n <= 65535) return n;
  process.stderr.write(`jitgate demo: ${flag} must be a port number, 0–65535 (0: any free port)\n`);
  return null;
}

async function runDemo(dir: string, port: number, gatewayPort: number): Promise<void> {
  const [{ loadPolicyForServer }, { startServer }, { startGateway }, { pino }, idpMod, upstreamMod, policyMod, textMod, loopback] = await Promise.all([
    import('./load-policy.js'),
    import('../http/server.js'),
    import('../gateway/gateway.js'),
    import('pino'),
    import('../demo/identity-provider.js'),
    import('../demo/upstream.js'),
    import('../demo/policy.js'),
    import('../demo/instructions.js'),
    import('../demo/loopback.js'),
  ]);
  await loopback.ensurePortFree(port, 'server', '--port');
  await loopback.ensurePortFree(gatewayPort, 'gateway', '--gateway-port');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = () => randomBytes(32).toString('base64url');
  const ciSecret = secret();
  const gatewaySecret = secret();
  const apiKey = secret();

  // Whatever started is stopped again, in reverse order, on failure and on Ctrl-C.
  const running: { close(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const r of running.splice(0).reverse()) await r.close().catch(() => undefined);
  };
  try {
    const idp = await idpMod.startDemoIdentityProvider({ users: [textMod.REQUESTER, textMod.APPROVER] });
    running.push(idp);
    const upstream = await upstreamMod.startDemoUpstream({ apiKey });
    running.push(upstream);

    const policyPath = join(dir, 'policy.yaml');
    const text = policyMod.demoPolicy(readFileSync(EXAMPLE, 'utf8'), {
      idpIssuer: idp.issuer,
      idpJwksUri: idp.jwksUri,
      upstreamUrl: upstream.url,
      ciSecret,
      gatewaySecret,
    });
    writeFileSync(policyPath, text, { mode: 0o600 });
    const policy = await loadPolicyForServer(policyPath);
    if (!policy) throw new Error(`the demo policy ${policyPath} has errors`);

    const server = await startServer({
      policy,
      policyPath,
      dbUrl: `sqlite:${join(dir, 'jitgate.db')}`,
      host: loopback.DEMO_HOST,
      port,
      reloadOnSighup: true,
      log: pino({ level: 'warn' }),
    }).catch((err: unknown) => {
      throw loopback.listenError(err, port, 'server', '--port');
    });
    running.push(server);

    const gateway = await startGateway({
      policy,
      policyPath,
      server: server.url,
      clientId: policyMod.DEMO_GATEWAY_CLIENT,
      clientSecret: gatewaySecret,
      host: loopback.DEMO_HOST,
      port: gatewayPort,
      resources: [policyMod.DEMO_RESOURCE],
      env: { [policyMod.DEMO_API_KEY_ENV]: apiKey },
      reloadOnSighup: true,
      log: pino({ level: 'warn', redact: ['req.headers.authorization'] }),
    }).catch((err: unknown) => {
      throw loopback.listenError(err, gatewayPort, 'gateway', '--gateway-port');
    });
    running.push(gateway);

    // The first call of the walk-through must meet a serving gateway, not a 503 while its feed connects.
    const caughtUp = await Promise.race([
      gateway.ready.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), GATEWAY_READY_MS).unref()),
    ]);
    if (!caughtUp) process.stderr.write('jitgate demo: warning: the gateway has not reached the server’s revocation feed yet; it answers 503 until it does\n');

    process.stdout.write(
      textMod.demoInstructions({
        serverUrl: server.url,
        gatewayUrl: gateway.url,
        upstreamUrl: upstream.url,
        idpIssuer: idp.issuer,
        idTokenUrl: idp.idTokenUrl,
        configHome: (user) => join(dir, user),
        policyPath,
        pid: process.pid,
        ciSecret,
      }),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`jitgate demo: ${signal}, stopping\n`);
    void stopAll().then(() => {
      process.stderr.write('jitgate demo: stopped\n');
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
