import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
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
import { apiPlugin } from './api/plugin.js';

const FORM = 'application/x-www-form-urlencoded';

export interface AppOptions {
  /** Trust X-Forwarded-For from a reverse proxy for the client address (rate limits). Default false. */
  trustProxy?: boolean;
}

/**
 * The HTTP surface of the server. Request logging is off: at tens of
 * thousands of requests a second a log line per request costs more than the
 * request; errors and state changes are logged where they happen.
 */
export async function buildApp(ctx: ServerContext, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
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

  app.get('/healthz', async () => ({ status: 'ok' }));

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
  });

  await app.register((api) => apiPlugin(api, ctx), { prefix: '/api/v1' });

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
