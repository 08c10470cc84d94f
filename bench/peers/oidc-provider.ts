/**
 * oidc-provider 9 configured to do what jitgate does on the measured paths:
 * one confidential client (client_secret_basic), the client_credentials grant
 * issuing ES256-signed JWT access tokens (RFC 9068) for one resource
 * (RFC 8707), and introspection. Storage is its default in-memory adapter.
 *
 * oidc-provider refuses to introspect its own JWT access tokens, so a
 * client_credentials request without `resource` yields an opaque token (kept
 * in the in-memory adapter): that is what its introspection figure measures.
 */
import { exportJWK, generateKeyPair } from 'jose';
import { Provider, errors } from 'oidc-provider';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_RESOURCE, BENCH_SCOPE } from '../lib/fixture.js';
import { peerPort, stopOnSignal } from '../lib/peer-args.js';

const port = peerPort();
const issuer = `http://127.0.0.1:${port}`;
const TOKEN_TTL_S = 600;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: BENCH_CLIENT_ID,
      client_secret: BENCH_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: BENCH_SCOPE,
    },
  ],
  jwks: { keys: [signingJwk] },
  // The only key is EC P-256, so nothing may default to RS256.
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  scopes: [BENCH_SCOPE],
  ttl: { ClientCredentials: TOKEN_TTL_S },
  cookies: { keys: ['bench-cookie-signing-key-not-used-by-these-endpoints'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // A client may introspect only its own tokens, as jitgate's bench client does.
      allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
        token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      // Without `resource` the token stays opaque (introspectable); with it, a JWT.
      defaultResource: async () => undefined,
      getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
        if (resourceIndicator !== BENCH_RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: BENCH_SCOPE,
          audience: BENCH_RESOURCE,
          accessTokenTTL: TOKEN_TTL_S,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});

provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc-provider server_error: ${(err as Error).message}\n`);
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
stopOnSignal(() => server.close());
