/**
 * The enforcement gateway: a reverse proxy in front of the resources of the
 * policy that have an `upstream`. Every request is checked locally, without
 * a round trip to the server: the token's signature against the server's
 * JWKS, `typ`, issuer, expiry, audience = the resource, the route's scopes,
 * and the revocations the server pushes over its feed. The caller's token
 * never reaches the upstream; the resource's own credentials are injected.
 * When the feed has been silent longer than a bound, the gateway refuses
 * everything (503) rather than accept what might have been revoked.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import type { Policy } from '../policy/types.js';
import { PolicyHolder } from '../policy/holder.js';
import { Problem } from '../http/problem.js';
import { systemClock, nowS, type Clock } from '../util/clock.js';
import { gatewayResources, hostnameOf, type GatewayResources } from './resources.js';
import { normalizePath } from './normalize-path.js';
import { matchRoute } from './routes.js';
import { upstreamRequestHeaders } from './forward-headers.js';
import { RevocationSet, type RevokedBecause } from './revocation-set.js';
import { TokenVerifier } from './token-verifier.js';
import { ServiceToken } from './service-token.js';
import { FeedClient } from './feed-client.js';
import { fetchServerMetadata, type ServerMetadata } from './server-metadata.js';
import { Upstreams, type UpstreamOptions } from './upstream.js';
import { insufficientScope, invalidToken, missingToken, problems, sendProblem } from './answers.js';
import { GatewayMetrics, NO_RESOURCE } from '../metrics/gateway-metrics.js';
import { GatewayRequestTrace } from '../metrics/gateway-trace.js';
import { MetricsAccess } from '../metrics/metrics-access.js';
import { serveOperations } from '../metrics/gateway-routes.js';
import { gatewayReadiness } from '../metrics/gateway-readiness.js';
import { UsageRecorder, type FlushResult } from './usage-recorder.js';

export interface GatewayOptions {
  /** The policy: its resources with an `upstream` are served. */
  policy: Policy;
  /** The policy's file, for reloads (`watch`, SIGHUP). */
  policyPath?: string | null;
  /** Where the gateway reaches the jitgate server (its metadata, JWKS, token endpoint and feed). */
  server: string;
  /** The gateway's OAuth client; the policy must give it the `jitgate:gateway` scope. */
  clientId: string;
  clientSecret: string;
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Serve only these resources (audiences). Default: every resource with an upstream. */
  resources?: readonly string[];
  /** Where `${NAME}` in `inject_headers` is read. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Wall clock for `exp` and revocation lifetimes. */
  clock?: Clock;
  /** Milliseconds on a clock that only moves forward: feed freshness. Default performance.now. */
  monotonicMs?: () => number;
  /** Refuse requests (503) once the feed has been silent this long, ms. Default 5000. */
  feedMaxAgeMs?: number;
  /** Keep-alive interval asked of the server, ms. Default a third of feedMaxAgeMs, at most 2000. */
  feedHeartbeatMs?: number;
  /** Verified tokens kept. Default 10000. */
  tokenCacheSize?: number;
  /** Least time between JWKS fetches caused by unknown key ids, ms. Default 30000. */
  jwksCooldownMs?: number;
  upstream?: UpstreamOptions;
  log?: Logger;
  /** Reload the policy file when it changes. */
  watch?: boolean;
  /** Reload the policy file on SIGHUP. */
  reloadOnSighup?: boolean;
  /** Bearer token that opens `/metrics` to any address; without it only loopback callers read metrics (docs/operations.md). */
  metricsToken?: string | null;
  /** Log one line per forwarded request (refusals are always logged). Default false. */
  accessLog?: boolean;
  /** Milliseconds between usage reports to the server. Default 10000. */
  usageFlushMs?: number;
  /** Distinct (principal, scope, resource) usage keys kept between reports. Default 50000. */
  usageMaxKeys?: number;
}

export interface RunningGateway {
  /** Where it listens. */
  url: string;
  /** Resolves once the feed has caught up the first time; until then every request is 503. */
  ready: Promise<void>;
  /** What the feed has revoked so far (tests, metrics). */
  revocations: RevocationSet;
  /** Milliseconds since the feed was last heard from while caught up; null before. */
  feedAgeMs(): number | null;
  /** Sends the usage counted so far to the server now, instead of at the next interval. */
  flushUsage(): Promise<FlushResult>;
  close(): Promise<void>;
}

const REVOKED_REASON: Record<RevokedBecause, string> = {
  token_revoked: 'the token has been revoked',
  grant_revoked: 'the grant behind the token has been revoked or released',
  scope_withdrawn: "the policy no longer gives the token's principal a scope it carries",
};

/**
 * Starts a gateway. Throws JitgateError when the policy gives it nothing to
 * serve or an injected header cannot be built (`gateway_env_missing`,
 * `gateway_header_invalid`, `gateway_host_ambiguous`, …): it never starts
 * half-configured. The server need not be reachable yet: until the feed has
 * caught up, requests are refused with 503.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const log = opts.log ?? pino({ level: 'silent' });
  const clock = opts.clock ?? systemClock;
  const monotonicMs = opts.monotonicMs ?? (() => performance.now());
  const env = opts.env ?? process.env;
  const maxAgeMs = opts.feedMaxAgeMs ?? 5000;
  const heartbeatMs = opts.feedHeartbeatMs ?? Math.max(250, Math.min(2000, Math.floor(maxAgeMs / 3)));

  const holder = new PolicyHolder(opts.policyPath ?? null, opts.policy, () => nowS(clock));
  let resources: GatewayResources = gatewayResources(opts.policy, env, opts.resources);
  holder.on('reloaded', (next) => {
    try {
      resources = gatewayResources(next, env, opts.resources);
      log.info({ policy: next.hash, resources: resources.list.map((r) => r.audience) }, 'gateway policy reloaded');
    } catch (err) {
      log.error({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'the reloaded policy cannot be served; the previous one stays');
    }
  });
  holder.on('refused', () => log.error('policy reload refused; the previous policy stays in force'));

  const metrics = new GatewayMetrics();
  const metricsAccess = new MetricsAccess(opts.metricsToken);
  const revocations = new RevocationSet();
  const upstreams = new Upstreams(opts.upstream ?? {}, log);
  const usage = new UsageRecorder({ server: opts.server, flushMs: opts.usageFlushMs, maxKeys: opts.usageMaxKeys, log });
  let meta: ServerMetadata | null = null;
  let verifier: TokenVerifier | null = null;
  let feed: FeedClient | null = null;
  let closed = false;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  // The Host header of the last request that had a valid one: callers repeat theirs, so most requests skip the parse.
  let validHost = '';
  const handle = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const trace = new GatewayRequestTrace(requestId, req.method, req.url, metrics, log, monotonicMs, opts.accessLog ?? false);
    // Every refusal below goes through the trace, which counts and logs it; an unread body closes the connection.
    const age = feed?.ageMs() ?? null;
    if (!verifier || !meta || age === null || age > maxAgeMs) return trace.refuse(res, problems.feedStale(age), !req.complete);

    const host = req.headers.host;
    if (host === undefined || (host !== validHost && hostnameOf(host) === null)) return trace.refuse(res, problems.badRequest('send a valid Host header'), !req.complete);
    validHost = host;
    const resource = resources.forHost(host);
    if (!resource) return trace.refuse(res, problems.unknownResource(host), !req.complete);
    trace.resource = resource.audience;

    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const normalized = normalizePath(q < 0 ? target : target.slice(0, q));
    if (!normalized.ok) return trace.refuse(res, problems.badPath(normalized.reason), !req.complete);
    const path = normalized.path;
    const method = (req.method ?? 'GET').toUpperCase();

    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(auth);
    if (!m) return trace.refuse(res, auth === undefined ? missingToken() : invalidToken('the Authorization header is not a Bearer token'), !req.complete);
    // A token seen before is answered from the cache without a promise; only a new one waits for its signature check.
    let token = verifier.cached(m[1]!);
    if (token === undefined) {
      const verified = await verifier.check(m[1]!);
      if (!verified.ok) {
        return trace.refuse(res, verified.code === 'jwks_unavailable' ? problems.jwksUnavailable() : invalidToken(verified.reason), !req.complete);
      }
      token = verified.token;
    }
    const { claims, scopes } = token;
    trace.principal = claims.sub;
    if (claims.aud !== resource.audience) return trace.refuse(res, invalidToken(`the token is for ${claims.aud}, not for ${resource.audience}`), !req.complete);
    const now = nowS(clock);
    if (claims.exp <= now) return trace.refuse(res, invalidToken('the token has expired'), !req.complete);
    const revoked = revocations.check(claims, scopes);
    if (revoked) {
      usage.refused(claims, resource.audience, revoked, now);
      return trace.refuse(res, invalidToken(REVOKED_REASON[revoked]), !req.complete);
    }

    const match = matchRoute(resource.routes, method, path);
    if (match.kind === 'none') return trace.refuse(res, problems.noRoute(method, path), !req.complete);
    if (match.kind === 'method_not_allowed') return trace.refuse(res, problems.methodNotAllowed(method, path, match.allow), !req.complete);
    trace.route = match.route.path;
    if (!holdsAll(scopes, match.route.scopes)) {
      const missing = match.route.scopes.filter((s) => !scopes.includes(s));
      const problem = insufficientScope({
        policy: holder.current,
        issuer: meta.issuer,
        audience: resource.audience,
        method,
        path,
        required: match.route.scopes,
        missing,
      });
      return trace.refuse(res, problem, !req.complete);
    }

    usage.record(token, claims.sub, match.route, match.route.scopes, resource.audience, now);
    const upstreamStart = monotonicMs();
    const outcome = await upstreams.forward(req, res, {
      origin: resource.upstreamOrigin,
      path: `${resource.upstreamBasePath}${path}${q < 0 ? '' : target.slice(q)}`,
      headers: upstreamRequestHeaders(req.rawHeaders, {
        clientAddress: req.socket.remoteAddress ?? '',
        proto: 'http',
        host,
        requestId,
        injected: resource.injected,
      }),
      requestId,
    });
    trace.forwarded(outcome, upstreamStart, res.statusCode);
  };

  const readiness = () =>
    gatewayReadiness({
      jwksLoaded: verifier?.jwksLoaded ?? false,
      feedConnected: feed?.connected ?? false,
      feedAgeMs: feed?.ageMs() ?? null,
      feedMaxAgeMs: maxAgeMs,
      resources: resources.list.length,
    });
  metrics.watchFeed({ ageMs: () => feed?.ageMs() ?? null, connected: () => feed?.connected ?? false });
  const server: Server = createServer({ requestTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => {
    if (serveOperations(req, res, { metrics, access: metricsAccess, readiness })) return;
    // An edge does not take the caller's X-Request-Id (forward-headers.ts): the id is the gateway's own.
    const requestId = randomUUID();
    handle(req, res, requestId).catch((err) => {
      metrics.resource(NO_RESOURCE).outcome('server_error').inc();
      log.error({ err, reqId: requestId }, 'gateway request failed');
      if (!res.headersSent) res.setHeader('x-request-id', requestId);
      sendProblem(res, new Problem(500, 'server_error', 'the gateway could not complete the request'), true);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => rejectMalformed(err, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as { port: number; address: string };
  const bound = opts.host ?? '127.0.0.1';
  const url = `http://${bound.includes(':') ? `[${bound}]` : bound}:${address.port}`;

  if (opts.watch) holder.watch();
  const onHup = () => void holder.reload();
  if (opts.reloadOnSighup) process.on('SIGHUP', onHup);
  const sweep = setInterval(() => revocations.sweep(nowS(clock)), 30_000);
  sweep.unref();

  // The server may come up after the gateway: keep asking for its metadata.
  const boot = (async () => {
    let backoff = 250;
    while (!closed) {
      try {
        meta = await fetchServerMetadata(opts.server);
        break;
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, 'jitgate server not reachable yet; requests are refused until it is');
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    if (closed || !meta) return;
    verifier = new TokenVerifier({
      issuer: meta.issuer,
      jwksUri: meta.jwksUri,
      clock,
      cacheSize: opts.tokenCacheSize,
      jwksCooldownMs: opts.jwksCooldownMs,
      cacheStats: { hits: metrics.cacheHits, misses: metrics.cacheMisses },
      onJwksFetch: () => metrics.jwksFetches.inc(),
    });
    void verifier.prefetchJwks();
    const serviceToken = new ServiceToken({ tokenEndpoint: meta.tokenEndpoint, clientId: opts.clientId, clientSecret: opts.clientSecret, clock });
    usage.start(serviceToken);
    feed = new FeedClient({
      feedUrl: meta.feedUrl,
      token: serviceToken,
      onEntry: (e) => revocations.apply(e),
      monotonicMs,
      heartbeatMs,
      idleTimeoutMs: Math.max(maxAgeMs, 3 * heartbeatMs),
      log,
    });
    feed.start();
    void feed.ready.then(() => {
      log.info({ issuer: meta?.issuer }, 'revocation feed caught up; serving');
      markReady();
    });
  })();

  log.info({ url, resources: resources.list.map((r) => r.audience) }, 'jitgate gateway listening');
  return {
    url,
    ready,
    revocations,
    feedAgeMs: () => feed?.ageMs() ?? null,
    flushUsage: () => usage.flush(),
    async close() {
      closed = true;
      clearInterval(sweep);
      process.off('SIGHUP', onHup);
      holder.close();
      // A boot still waiting for the server sees `closed` and stops on its own.
      void boot;
      await feed?.stop();
      const done = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await done;
      // Once nothing more can be counted, the last report; the server may be gone already, so it is bounded.
      await usage.close();
      await upstreams.close();
    },
  };
}

function holdsAll(held: readonly string[], required: readonly string[]): boolean {
  for (let i = 0; i < required.length; i++) if (!held.includes(required[i]!)) return false;
  return true;
}

/** A request Node's parser refused (bare CR, LF in a header, oversized headers): answered and closed. */
function rejectMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const problem = tooLarge
    ? new Problem(431, 'headers_too_large', 'the request headers are too large')
    : new Problem(400, 'request_invalid', 'the request is not well-formed HTTP/1.1 (line breaks or control characters where they do not belong)');
  const body = JSON.stringify(problem.toJSON());
  socket.end(
    `HTTP/1.1 ${problem.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
