import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { required } from '../http/form-body.js';
import { authenticateFormClient } from './client-auth-deps.js';
import { InvalidClient } from './errors.js';
import { activeToken } from './token-status.js';

/**
 * RFC 7662. Only authenticated (confidential) clients may ask; the answer for
 * anything not active is exactly `{ "active": false }`, whatever the reason,
 * so introspection is no oracle for why a token failed.
 */
export function registerIntrospectionEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/introspect', async (req, reply) => {
    const params = req.body as FormParams;
    const { method } = await authenticateFormClient(ctx, req);
    if (method === 'none') throw new InvalidClient('introspection requires client authentication');
    const token = required(params, 'token');
    reply.header('cache-control', 'no-store');
    const row = await activeToken(ctx, token, 'introspection');
    ctx.metrics.introspection(row !== null);
    if (!row) return { active: false };
    const body: Record<string, unknown> = {
      active: true,
      iss: ctx.config.issuer,
      sub: row.sub,
      aud: row.aud,
      client_id: row.client_id,
      scope: row.scope,
      jti: row.jti,
      iat: row.iat,
      exp: row.exp,
      token_type: 'Bearer',
    };
    if (row.grant_id) body.grant = row.grant_id;
    if (row.acr) body.acr = row.acr;
    if (row.amr) body.amr = JSON.parse(row.amr);
    if (row.auth_time !== null) body.auth_time = row.auth_time;
    return body;
  });
}
