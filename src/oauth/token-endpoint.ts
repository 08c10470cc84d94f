import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { required } from '../http/form-body.js';
import { OAuthError, UnsupportedGrantType } from './errors.js';
import type { GrantHandler } from './grants/grant.js';
import { clientCredentials } from './grants/client-credentials.js';
import { tokenExchange, TOKEN_EXCHANGE } from './grants/token-exchange.js';
import { authorizationCode } from './grants/authorization-code.js';
import { refreshToken } from './grants/refresh-token.js';
import { deviceCode, DEVICE_CODE } from './grants/device-code.js';
import { authenticateFormClient } from './client-auth-deps.js';

/** Grant types this server answers; discovery lists exactly these. */
export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map<string, GrantHandler>([
  ['client_credentials', clientCredentials],
  ['authorization_code', authorizationCode],
  [TOKEN_EXCHANGE, tokenExchange],
  ['refresh_token', refreshToken],
  [DEVICE_CODE, deviceCode],
]);

/** RFC 6749 §3.2 token endpoint: authenticate the client, then dispatch on grant_type. */
export function registerTokenEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  const issued = new Map([...GRANT_HANDLERS.keys()].map((g) => [g, ctx.metrics.tokensIssued.cell(g)]));
  // Counted before the error handler turns the error into its wire form; that handler answers anything else as invalid_request or server_error.
  const onError = async (_req: unknown, _reply: unknown, err: Error & { statusCode?: number }) => {
    const code = err instanceof OAuthError ? err.error : typeof err.statusCode === 'number' && err.statusCode < 500 ? 'invalid_request' : 'server_error';
    ctx.metrics.tokenErrors.cell(code).inc();
  };
  app.post('/token', { onError }, async (req, reply) => {
    const params = req.body as FormParams;
    const grantType = required(params, 'grant_type');
    const handler = GRANT_HANDLERS.get(grantType);
    if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    const client = await authenticateFormClient(ctx, req);
    const body = await handler(ctx, client, params);
    issued.get(grantType)!.inc();
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return body;
  });
}
