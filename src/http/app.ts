import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServerContext } from './context.js';
import { parseForm } from './form-body.js';
import { oauthErrorHandler } from './oauth-errors-handler.js';
import { InvalidRequest } from '../oauth/errors.js';
import { Problem } from './problem.js';
import { registerDiscovery } from '../oauth/discovery.js';
import { registerJwks } from '../oauth/jwks-endpoint.js';
import { registerTokenEndpoint } from '../oauth/token-endpoint.js';
import { registerIntrospectionEndpoint } from '../oauth/introspection-endpoint.js';
import { registerRevocationEndpoint } from '../oauth/revocation-endpoint.js';
import { registerDeviceAuthorizationEndpoint } from '../oauth/device-authorization-endpoint.js';
import { apiPlugin } from './api/plugin.js';
import { loginPlugin } from '../login/routes.js';
import { MetricsAccess } from '../metrics/metrics-access.js';
import { registerHttpMetrics } from '../metrics/http-metrics.js';
import { registerAccessLog } from '../metrics/access-log.js';
import { registerOperationsRoutes } from '../metrics/server-routes.js';
import { requestIdOf } from '../metrics/request-id.js';

const FORM = 'application/x-www-form-urlencoded';

export interface AppOptions {
  /** Trust X-Forwarded-For from a reverse proxy for the client address (rate limits). Default false. */
  trustProxy?: boolean;
  /** Bearer token for `/metrics` from any address; null: loopback callers only. */
  metricsToken?: string | null;
  /** One log line per answered request. Default false. */
  accessLog?: boolean;
}

/**
 * The HTTP surface of the server. Request logging is off unless asked for
 * (`accessLog`): at tens of thousands of requests a second a log line per
 * request costs more than the request; errors and state changes are logged
 * where they happen, with the request id (`reqId`) when logged through `req.log`.
 */
export async function buildApp(ctx: ServerContext, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Fastify's own per-request lines stay off; `accessLog` writes one line per request instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    bodyLimit: ctx.config.bodyLimit,
    trustProxy: opts.trustProxy ?? false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Refusals made by the router itself (a malformed URL, an over-long
    // parameter) answer in the same error format as the rest of the path.
    frameworkErrors: (err, req, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 400;
      if (req.url.startsWith('/api/')) {
        reply.code(status).type('application/problem+json').send(new Problem(status, 'request_invalid', 'the request URL is malformed or too long').toJSON());
      } else {
        reply.code(status).type('application/json').send({ error: 'invalid_request', error_description: 'the request URL is malformed or too long' });
      }
    },
  });

  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: ctx.config.bodyLimit }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });

  const metricsAccess = new MetricsAccess(opts.metricsToken);
  registerHttpMetrics(app, ctx.metrics);
  if (opts.accessLog) registerAccessLog(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  registerOperationsRoutes(app, ctx, metricsAccess);

  await app.register(async (oauth) => {
    oauth.setErrorHandler(oauthErrorHandler(ctx.log));
    oauth.addHook('preValidation', async (req) => {
      if (req.method !== 'POST') return;
      if (req.body === undefined || req.body === null) req.body = new URLSearchParams();
      if (!(req.body instanceof URLSearchParams)) {
        throw new InvalidRequest(`content type must be ${FORM}`, 415);
      }
    });
    registerDiscovery(oauth, ctx);
    registerJwks(oauth, ctx);
    registerTokenEndpoint(oauth, ctx);
    registerIntrospectionEndpoint(oauth, ctx);
    registerRevocationEndpoint(oauth, ctx);
    registerDeviceAuthorizationEndpoint(oauth, ctx);
  });

  await app.register((api) => apiPlugin(api, ctx), { prefix: '/api/v1' });
  // The browser pages of sign-in (authorization endpoint, login, device verification).
  await app.register((pages) => loginPlugin(pages, ctx));

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).type('application/problem+json').send({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: `no route for ${req.method} ${req.url.split('?')[0]}`,
    });
  });
  return app;
}
