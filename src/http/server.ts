import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Policy } from '../policy/types.js';
import { PolicyHolder } from '../policy/holder.js';
import { openStore, type Store } from '../store/open.js';
import { WriteBatcher } from '../store/write-batcher.js';
import { pruneExpired } from '../store/prune.js';
import { resolveKek } from '../tokens/kek.js';
import { Keyring } from '../tokens/keyring.js';
import { FederationVerifier } from '../identity/federation.js';
import { LocalUsers } from '../identity/local-users.js';
import { systemClock, nowS, type Clock } from '../util/clock.js';
import { FailureLimiter } from './failure-limiter.js';
import { DEFAULT_CONFIG, type ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { buildApp } from './app.js';
import { withOwnApi } from '../policy/own-api.js';
import { startSweeper } from '../access/sweeper.js';
import { TokenRecorder } from '../oauth/token-recorder.js';
import { AuditLog } from '../audit/log.js';
import { startAuditTasks } from '../audit/server-tasks.js';
import type { CheckpointSchedule } from '../audit/checkpointer.js';
import { JitgateError } from '../util/errors.js';
import { AlertService, type AlertServiceOptions } from '../alerts/alert-service.js';
import { startRevocationFeed, revocationFeedOf } from '../revocations/feed.js';
import { recordWithdrawnScopes } from '../revocations/scope-withdrawal.js';
import { ServerMetrics } from '../metrics/server-metrics.js';

export interface StartOptions {
  /** The policy in force; `policyPath` lets SIGHUP/`watch` reload it. */
  policy: Policy;
  policyPath?: string | null;
  dbUrl: string;
  /** An already-open store to use instead of opening `dbUrl` (tests); the caller closes it. */
  store?: Store;
  port?: number;
  host?: string;
  /** Defaults to http://HOST:PORT once listening. */
  issuer?: string;
  config?: Partial<Omit<ServerConfig, 'issuer'>>;
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Reload the policy file when it changes. */
  watch?: boolean;
  /** Reload the policy file on SIGHUP (the CLI turns this on). */
  reloadOnSighup?: boolean;
  trustProxy?: boolean;
  /** How often signing keys are re-read so rotations by other processes arrive. Default 30 s. */
  keyRefreshMs?: number;
  /** How often escalations, expiries and grant starts/ends are recorded. Default 15 s. */
  sweepEveryMs?: number;
  /** How often expired token records are pruned. Default 10 min. */
  pruneEveryMs?: number;
  /** When audit checkpoints are signed (default 1000 events / 60 s; see docs/audit.md). */
  auditCheckpoint?: Partial<CheckpointSchedule>;
  /** Alert detection and webhook delivery tuning (docs/alerts.md). */
  alerts?: AlertServiceOptions;
  /** Bearer token that opens `/metrics` to any address; without it only loopback callers read metrics (docs/operations.md). */
  metricsToken?: string | null;
  /** Log one line per answered request. Default false. */
  accessLog?: boolean;
}

export interface RunningServer {
  /** Where it listens (the issuer may be a public URL in front of it). */
  url: string;
  app: FastifyInstance;
  ctx: ServerContext;
  /** Detectors and webhook delivery; `settle()` waits for them (tests). */
  alerts: AlertService;
  close(): Promise<void>;
}

/**
 * Opens the store (running migrations), loads or creates signing keys, and
 * serves. Everything `jitgate serve` does, callable from tests and the demo.
 */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? pino({ level: 'silent' });
  const env = opts.env ?? process.env;
  const host = opts.host ?? '127.0.0.1';

  const store: Store = opts.store ?? (await openStore(opts.dbUrl));
  const cleanups: (() => unknown)[] = opts.store ? [] : [() => store.close()];
  try {
    const kek = await resolveKek({ env, dbUrl: opts.dbUrl });
    const keyring = await Keyring.open(store, kek, { now: () => nowS(clock) });
    const holder = new PolicyHolder(opts.policyPath ?? null, opts.policy, () => nowS(clock));
    const config: ServerConfig = { issuer: opts.issuer ?? '', ...DEFAULT_CONFIG, ...opts.config };
    const writer = new WriteBatcher<unknown>(store);
    const audit = new AuditLog(store, clock);
    cleanups.unshift(() => writer.close());
    const ctx: ServerContext = {
      config,
      store,
      writer,
      tokens: new TokenRecorder(store.db, writer, audit),
      audit,
      keyring,
      policy: holder,
      clock,
      authFailures: {
        client: new FailureLimiter({ maxFailures: config.maxAuthFailures, windowMs: config.failureWindowMs }),
        address: new FailureLimiter({ maxFailures: config.maxAuthFailuresPerAddress, windowMs: config.failureWindowMs }),
      },
      federation: new FederationVerifier({
        clockToleranceS: config.federationClockToleranceS,
        cooldownMs: config.federationJwksCooldownMs,
      }),
      users: new LocalUsers({ store, clock, kek, audit }),
      log,
      metrics: new ServerMetrics(),
    };
    audit.on('appended', ctx.metrics.onAuditAppended);

    holder.on('reloaded', (next, prev) => log.info({ policy: next.hash, previous: prev.hash }, 'policy reloaded'));
    // Scopes a reload takes away become `scope.withdrawn` events, which the revocation feed carries to gateways.
    holder.on('reloaded', (next, prev) => {
      recordWithdrawnScopes(ctx, prev, next).catch((err) => log.error({ err }, 'recording scopes withdrawn by the policy reload failed'));
    });
    holder.on('refused', (issues) =>
      log.error({ issues: issues.filter((i) => i.severity === 'error') }, 'policy reload refused; the previous policy stays in force'),
    );
    if (opts.watch) holder.watch();
    cleanups.unshift(() => holder.close());
    if (opts.reloadOnSighup) {
      const onHup = () => void holder.reload();
      process.on('SIGHUP', onHup);
      cleanups.unshift(() => process.off('SIGHUP', onHup));
    }

    cleanups.unshift(await startRevocationFeed(ctx));
    ctx.metrics.readFeedSubscribers(() => revocationFeedOf(ctx)?.subscribers ?? 0);

    const alerts = new AlertService(ctx, env, opts.alerts);
    cleanups.unshift(alerts.start());

    const app = await buildApp(ctx, { trustProxy: opts.trustProxy ?? false, metricsToken: opts.metricsToken ?? null, accessLog: opts.accessLog ?? false });
    cleanups.unshift(() => app.close());
    await app.listen({ port: opts.port ?? 0, host });
    const port = (app.server.address() as { port: number }).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    config.issuer = opts.issuer ? normalizeIssuer(opts.issuer) : url;
    holder.setTransform((p) => withOwnApi(p, config.issuer));

    const keyTimer = setInterval(() => {
      keyring.refresh().catch((err) => log.error({ err }, 'refreshing signing keys failed'));
    }, opts.keyRefreshMs ?? 30_000);
    keyTimer.unref();
    const pruneTimer = setInterval(() => {
      pruneExpired(store, nowS(clock))
        .then((n) => log.debug({ pruned: n }, 'pruned expired records'))
        .catch((err) => log.error({ err }, 'pruning expired records failed'));
    }, opts.pruneEveryMs ?? 600_000);
    pruneTimer.unref();
    cleanups.unshift(() => clearInterval(keyTimer), () => clearInterval(pruneTimer));
    cleanups.unshift(startSweeper(ctx, opts.sweepEveryMs ?? 15_000));
    cleanups.unshift(await startAuditTasks(ctx, { policyPath: holder.path, checkpoint: opts.auditCheckpoint, env }));

    log.info({ issuer: config.issuer, db: store.display, policy: holder.current.hash }, 'jitgate listening');
    return {
      url,
      app,
      ctx,
      alerts,
      close: () => runCleanups(cleanups),
    };
  } catch (err) {
    await runCleanups(cleanups);
    throw err;
  }
}

async function runCleanups(cleanups: (() => unknown)[]): Promise<void> {
  for (const c of cleanups.splice(0)) await c();
}

/** The issuer is an https (or loopback http) URL with no query, fragment or trailing slash. */
export function normalizeIssuer(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new JitgateError('issuer_invalid', `issuer ${raw} is not a URL`);
  }
  if (u.search || u.hash) throw new JitgateError('issuer_invalid', 'issuer must not have a query or fragment');
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new JitgateError('issuer_invalid', 'issuer must be an https URL');
  }
  return u.href.replace(/\/+$/, '');
}
