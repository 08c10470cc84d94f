import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';

/**
 * The published signing keys. Cache lifetime stays below the key publish
 * delay, so a resource server that caches the set learns a new key before
 * any token carries it.
 */
export function registerJwks(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/jwks', async (_req, reply) => {
    reply
      .header('content-type', 'application/jwk-set+json')
      .header('cache-control', `public, max-age=${ctx.config.jwksMaxAgeS}`);
    return ctx.keyring.jwks(nowS(ctx.clock));
  });
}
