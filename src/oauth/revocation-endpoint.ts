import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { required, single } from '../http/form-body.js';
import { authenticateFormClient } from './client-auth-deps.js';
import { UnauthorizedClient, UnsupportedTokenType } from './errors.js';
import { findIssuedToken, revokeToken } from './revoke-token.js';
import { nowS } from '../util/clock.js';

const HINTS = new Set(['access_token', 'refresh_token']);

/**
 * RFC 7009. An unknown, expired or already revoked token is answered 200 (the
 * client's goal, an unusable token, holds); a token issued to another client
 * is refused, so one client cannot cut off another's access.
 */
export function registerRevocationEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/revoke', async (req, reply) => {
    const params = req.body as FormParams;
    const { client } = await authenticateFormClient(ctx, req);
    const token = required(params, 'token');
    const hint = single(params, 'token_type_hint');
    if (hint !== undefined && !HINTS.has(hint)) throw new UnsupportedTokenType(`token_type_hint ${hint} is not supported`);
    const row = await findIssuedToken(ctx, token);
    if (row) {
      if (row.client_id !== client.id) throw new UnauthorizedClient('the token was not issued to this client');
      await revokeToken(ctx, row, nowS(ctx.clock), `client:${client.id}`, 'revoked by its client (RFC 7009)');
    }
    reply.header('cache-control', 'no-store');
    return reply.code(200).send();
  });
}
