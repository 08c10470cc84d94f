import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import { GRANT_HANDLERS } from './token-endpoint.js';
import { MFA_ACR } from '../identity/mfa.js';
import { CLIENT_AUTH_METHODS, CLIENT_ASSERTION_ALGS } from './client-auth.js';

/** RFC 8414 metadata, derived from what the server actually does. */
export function authorizationServerMetadata(ctx: ServerContext): Record<string, unknown> {
  const iss = ctx.config.issuer;
  const authMethods = [...CLIENT_AUTH_METHODS];
  return {
    issuer: iss,
    authorization_endpoint: `${iss}/authorize`,
    token_endpoint: `${iss}/token`,
    jwks_uri: `${iss}/jwks`,
    introspection_endpoint: `${iss}/introspect`,
    revocation_endpoint: `${iss}/revoke`,
    device_authorization_endpoint: `${iss}/device_authorization`,
    grant_types_supported: [...GRANT_HANDLERS.keys()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    prompt_values_supported: ['login', 'none', 'consent'],
    acr_values_supported: [MFA_ACR],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    introspection_endpoint_auth_methods_supported: authMethods.filter((m) => m !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    scopes_supported: [...ctx.policy.current.scopes.keys()],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
  };
}

export function registerDiscovery(app: FastifyInstance, ctx: ServerContext): void {
  const handler = async () => authorizationServerMetadata(ctx);
  app.get('/.well-known/oauth-authorization-server', handler);
  // Many clients only know the OpenID Connect location of the same document.
  app.get('/.well-known/openid-configuration', handler);
}
