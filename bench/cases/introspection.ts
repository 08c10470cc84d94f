/**
 * introspection (RFC 7662): a resource server asking whether tokens are
 * active, against the bare node:http ceiling of this machine.
 */
import { BENCH_RESOURCE, basicAuthorization, clientCredentialsBody } from '../lib/fixture.js';
import { FORM, endpoint, introspect, requestAccessTokens } from '../lib/oauth-client.js';
import { BARE_HTTP, OIDC_PROVIDER, jitgateVariants } from '../lib/servers.js';
import type { BenchCase, LoadPlan, RunningServer, Subject } from '../lib/types.js';

/** Distinct tokens cycled through, so the load is not one token answered from one cache line. */
const TOKEN_POOL = 64;
/** Tokens checked again after the load: still active, so the figure was not made of refusals. */
const RECHECK = 4;

function introspectionBody(token: string): string {
  return new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
}

function plan(url: string, bodies: string[], expectBody: string, what: string): LoadPlan {
  return {
    method: 'POST',
    url,
    headers: { authorization: basicAuthorization(), 'content-type': FORM },
    bodies,
    expectBody,
    describe: `POST ${new URL(url).pathname} token=<one of ${bodies.length} ${what}>, token_type_hint=access_token, client_secret_basic`,
  };
}

/** Fresh tokens from the server's own token endpoint, each checked active before the load. */
function activeTokens(resource: string | null, what: string): Pick<Subject, 'prepare' | 'verify'> {
  return {
    async prepare(server: RunningServer): Promise<LoadPlan> {
      const tokens = await requestAccessTokens(endpoint(server, 'token_endpoint'), clientCredentialsBody(resource), TOKEN_POOL);
      const url = endpoint(server, 'introspection_endpoint');
      for (const token of tokens) {
        const answer = await introspect(url, token);
        if (answer.active !== true) throw new Error(`${server.id} reports a fresh token inactive`);
      }
      return plan(url, tokens.map(introspectionBody), '"active":true', what);
    },
    async verify(server: RunningServer, p: LoadPlan): Promise<void> {
      for (const body of p.bodies.slice(0, RECHECK)) {
        const token = new URLSearchParams(body).get('token') ?? '';
        const answer = await introspect(p.url, token);
        if (answer.active !== true) throw new Error(`${server.id} reports a token inactive after the load`);
      }
    },
  };
}

export const introspection: BenchCase = {
  name: 'introspection',
  summary:
    'POST to the introspection endpoint with one of 64 valid access tokens (fetched fresh from the same server ' +
    'just before the load and checked active) and client_secret_basic; every response must say "active":true. ' +
    'The bare node:http server answers the same requests with a fixed body: the most any node:http server can do here.',
  subjects: ({ pg }) => [
    ...jitgateVariants(pg).map((server) => ({
      server,
      role: 'jitgate' as const,
      ...activeTokens(BENCH_RESOURCE, 'jitgate JWT access tokens'),
    })),
    {
      server: BARE_HTTP,
      role: 'peer',
      target: { kind: 'absolute', min: 10_000 },
      async prepare(server: RunningServer): Promise<LoadPlan> {
        // Token-sized bodies so the client sends as many bytes as to the real servers.
        const bodies = Array.from({ length: TOKEN_POOL }, (_, i) => introspectionBody(`${'x'.repeat(480)}${String(i).padStart(4, '0')}`));
        return plan(`${server.baseUrl}/introspect`, bodies, '"token_type"', 'token-sized strings');
      },
    },
    {
      server: OIDC_PROVIDER,
      role: 'peer',
      note:
        'oidc-provider refuses to introspect its own JWT access tokens (unsupported_token_type), so it is measured ' +
        'introspecting opaque client_credentials tokens looked up in its in-memory adapter. For reference only.',
      ...activeTokens(null, 'oidc-provider opaque access tokens'),
    },
  ],
};
