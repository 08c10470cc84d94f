/**
 * client_credentials: the token endpoint under load, jitgate against
 * oidc-provider doing the same work (client_secret_basic, ES256 JWT access
 * token for one resource).
 */
import { BENCH_SCOPE, basicAuthorization, clientCredentialsBody } from '../lib/fixture.js';
import { FORM, assertEs256Jwt, endpoint, requestAccessToken } from '../lib/oauth-client.js';
import { OIDC_PROVIDER, jitgateVariants } from '../lib/servers.js';
import type { BenchCase, LoadPlan, RunningServer } from '../lib/types.js';

/** The client_credentials load on `server`, after checking it issues an ES256 JWT. */
export async function tokenPlan(server: RunningServer): Promise<LoadPlan> {
  const url = endpoint(server, 'token_endpoint');
  const body = clientCredentialsBody();
  // The comparison holds only if both servers sign an ES256 JWT for every request.
  assertEs256Jwt(server.id, await requestAccessToken(url, body));
  return {
    method: 'POST',
    url,
    headers: { authorization: basicAuthorization(), 'content-type': FORM },
    bodies: [body],
    expectBody: '"access_token"',
    describe: `POST ${new URL(url).pathname} grant_type=client_credentials, scope=${BENCH_SCOPE}, resource, client_secret_basic`,
  };
}

export const clientCredentials: BenchCase = {
  name: 'client_credentials',
  summary:
    'POST to the token endpoint with grant_type=client_credentials, a scope and a resource indicator, the client ' +
    'authenticated with client_secret_basic; every response carries a freshly signed ES256 JWT access token. ' +
    'Each server is checked to issue an ES256 JWT before it is measured.',
  subjects: ({ pg }) => [
    ...jitgateVariants(pg).map((server) => ({ server, role: 'jitgate' as const, prepare: tokenPlan })),
    { server: OIDC_PROVIDER, role: 'peer', target: { kind: 'ratio', min: 4.0 }, prepare: tokenPlan },
  ],
};
