import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { required, single } from '../http/form-body.js';
import { authenticateFormClient } from './client-auth-deps.js';
import { UnauthorizedClient, UnsupportedTokenType } from './errors.js';
import { findIssuedToken, revokeToken } from './revoke-token.js';
import { nowS } from '../util/clock.js';
import { findRefreshToken, revokeRefreshFamily } from './refresh-tokens.js';

const HINTS = new Set(['access_token', 'refresh_token']);

/**
 * RFC 7009. An unknown, expired or already revoked token is answered 200 (the
 * client's goal, an unusable token, holds); a token issued to another client
 * is refused, so one client cannot cut off another's access. A refresh
 * token revokes its whole family and the access tokens issued from it.
 */
export function registerRevocationEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/revoke', async (req, reply) => {
    const params = req.body as FormParams;
    const { client } = await authenticateFormClient(ctx, req);
    const token = required(params, 'token');
    const hint = single(params, 'token_type_hint');
    if (hint !== undefined && !HINTS.has(hint)) throw new UnsupportedTokenType(`token_type_hint ${hint} is not supported`);
    // Refresh tokens are opaque (no dots), access tokens are JWTs: the shape tells them apart, so the hint is not needed (RFC 7009 §2.1).
    const refresh = token.includes('.') ? null : await findRefreshToken(ctx, token);
    if (refresh) {
      if (refresh.client_id !== client.id) throw new UnauthorizedClient('the token was not issued to this client');
      await revokeRefreshFamily(ctx, refresh, `client:${client.id}`, 'revoked by its client (RFC 7009)', 'refresh_token.revoked');
    }
    const row = refresh ? null : await findIssuedToken(ctx, token);
    if (row) {
      if (row.client_id !== client.id) throw new UnauthorizedClient('the token was not issued to this client');
      await revokeToken(ctx, row, nowS(ctx.clock), `client:${client.id}`, 'revoked by its client (RFC 7009)');
    }
    reply.header('cache-control', 'no-store');
    return reply.code(200).send();
  });
}
