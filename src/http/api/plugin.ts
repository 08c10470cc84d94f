import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { problemHandler } from './problem-handler.js';
import { Problem } from '../problem.js';
import { registerRequestRoutes } from './requests-routes.js';
import { registerGrantRoutes } from './grants-routes.js';
import { registerPrincipalRoutes } from './principals-routes.js';
import { registerMeRoute } from './me-route.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerAlertRoutes } from './alerts-routes.js';
import { registerRevocationsRoute } from './revocations-route.js';
import { registerUsageRoutes } from './usage-routes.js';

/** The REST API under /api/v1: JSON in, JSON or problem+json out. */
export async function apiPlugin(api: FastifyInstance, ctx: ServerContext): Promise<void> {
  api.setErrorHandler(problemHandler(ctx.log));
  api.setNotFoundHandler((req, reply) => {
    const p = new Problem(404, 'not_found', `no route for ${req.method} ${req.url.split('?')[0]}`);
    reply.code(404).type('application/problem+json').send(p.toJSON());
  });
  // Fastify would hand a text/plain (or, via the OAuth form parser, a form) body over as text;
  // the API speaks JSON only, so any other media type is refused before anything looks at it.
  api.addHook('preValidation', async (req) => {
    if (req.body === undefined) return;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new Problem(415, 'unsupported_media_type', 'send JSON with Content-Type: application/json');
  });
  api.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });
  registerRequestRoutes(api, ctx);
  registerGrantRoutes(api, ctx);
  registerPrincipalRoutes(api, ctx);
  registerMeRoute(api, ctx);
  registerAuditRoutes(api, ctx);
  registerAlertRoutes(api, ctx);
  registerRevocationsRoute(api, ctx);
  registerUsageRoutes(api, ctx);
}
