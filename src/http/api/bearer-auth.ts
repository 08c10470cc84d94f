import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { Problem } from '../problem.js';
import { activeToken } from '../../oauth/token-status.js';
import { actorOf, type Actor } from '../../access/actor.js';

const challenge = (error: string, description: string) =>
  `Bearer realm="jitgate", error="${error}", error_description="${description}"`;

/**
 * The REST API accepts only active jitgate tokens issued for jitgate itself
 * (`aud` = the issuer), checked with the same truth as introspection: a
 * revoked token or one whose grant ended stops working here at once.
 */
export async function authenticate(ctx: ServerContext, req: FastifyRequest): Promise<Actor> {
  const header = req.headers.authorization;
  if (!header || !/^bearer /i.test(header)) {
    throw new Problem(401, 'unauthorized', 'send a jitgate access token: Authorization: Bearer <token>', {
      headers: { 'www-authenticate': 'Bearer realm="jitgate"' },
    });
  }
  const row = await activeToken(ctx, header.slice(7).trim(), 'api');
  if (!row) {
    throw new Problem(401, 'invalid_token', 'the access token is not active (expired, revoked, or not issued here)', {
      headers: { 'www-authenticate': challenge('invalid_token', 'the access token is not active') },
    });
  }
  if (row.aud !== ctx.config.issuer) {
    throw new Problem(401, 'invalid_token', `the token is for ${row.aud}; the API takes tokens issued without a resource`, {
      headers: { 'www-authenticate': challenge('invalid_token', 'wrong audience') },
    });
  }
  return actorOf(row);
}
