import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { problemHandler } from './problem-handler.js';
import { Problem } from '../problem.js';
import { registerRequestRoutes } from './requests-routes.js';
import { registerGrantRoutes } from './grants-routes.js';
import { registerMeRoute } from './me-route.js';

/** The REST API under /api/v1: JSON in, JSON or problem+json out. */
export async function apiPlugin(api: FastifyInstance, ctx: ServerContext): Promise<void> {
  api.setErrorHandler(problemHandler(ctx.log));
  api.setNotFoundHandler((req, reply) => {
    const p = new Problem(404, 'not_found', `no route for ${req.method} ${req.url.split('?')[0]}`);
    reply.code(404).type('application/problem+json').send(p.toJSON());
  });
  api.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });
  registerRequestRoutes(api, ctx);
  registerGrantRoutes(api, ctx);
  registerMeRoute(api, ctx);
}
