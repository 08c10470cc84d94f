import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { required } from '../http/form-body.js';
import { UnsupportedGrantType } from './errors.js';
import type { GrantHandler } from './grants/grant.js';
import { clientCredentials } from './grants/client-credentials.js';
import { tokenExchange, TOKEN_EXCHANGE } from './grants/token-exchange.js';
import { authenticateFormClient } from './client-auth-deps.js';

/** Grant types this server answers; discovery lists exactly these. */
export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map<string, GrantHandler>([
  ['client_credentials', clientCredentials],
  [TOKEN_EXCHANGE, tokenExchange],
]);

/** RFC 6749 §3.2 token endpoint: authenticate the client, then dispatch on grant_type. */
export function registerTokenEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/token', async (req, reply) => {
    const params = req.body as FormParams;
    const grantType = required(params, 'grant_type');
    const handler = GRANT_HANDLERS.get(grantType);
    if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    const client = await authenticateFormClient(ctx, req);
    const body = await handler(ctx, client, params);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return body;
  });
}
