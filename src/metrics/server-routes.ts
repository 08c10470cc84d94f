/**
 * The server's operations endpoints: `/readyz` (docs/operations.md) and
 * `/metrics` in the Prometheus text format, guarded by {@link MetricsAccess}.
 * `/healthz` (liveness) stays in the app itself.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { MetricsAccess } from './metrics-access.js';
import { readinessAnswer } from './readiness.js';
import { serverReadiness } from './server-readiness.js';

export function registerOperationsRoutes(app: FastifyInstance, ctx: ServerContext, access: MetricsAccess): void {
  app.get('/readyz', async (_req, reply) => {
    const answer = readinessAnswer(await serverReadiness(ctx));
    reply.code(answer.status).type(answer.contentType).header('cache-control', 'no-store');
    return answer.body;
  });

  app.get('/metrics', async (req, reply) => {
    const allowed = access.check(req.socket.remoteAddress, req.headers);
    if (!allowed.ok) {
      const p = allowed.problem;
      reply.code(p.status).headers(p.headers).type('application/problem+json');
      return p.toJSON();
    }
    const text = await ctx.metrics.registry.metrics();
    reply.type(ctx.metrics.registry.contentType).header('cache-control', 'no-store');
    return text;
  });
}
