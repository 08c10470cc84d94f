/**
 * token_exchange_baseline: the first step of every person's session — an ID
 * token of a trusted issuer exchanged (RFC 8693) for a baseline jitgate token
 * by the public CLI client — beside jitgate's own client_credentials on the
 * same database. The identity provider is jitgate's demo one, started in this
 * process on loopback; its JWKS is fetched once and cached by the server, so
 * it does no work during the load.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_IDP_AUDIENCE, startDemoIdentityProvider, type DemoIdentityProvider } from '../../src/demo/identity-provider.js';
import { BENCH_SCOPE } from '../lib/fixture.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE } from '../lib/elevation-steps.js';
import { FORM, assertEs256Jwt, endpoint, requestAccessToken } from '../lib/oauth-client.js';
import { jitgate, jitgateVariants } from '../lib/servers.js';
import type { BenchCase, LoadPlan, MeasureSettings, RunningServer, ServerSpec, StartEnv, Subject } from '../lib/types.js';
import { tokenPlan } from './client-credentials.js';

const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** The public client of bench/policy.yaml that exchanges the ID token. */
const CLI_CLIENT_ID = 'bench-cli';
/** The `sub` the identity provider signs for; bench/policy.yaml maps it to `user:bench-person`. */
const PERSON = 'bench-person';
/** Slack beyond warm-up plus measured time that the ID token must still cover. */
const MARGIN_S = 120;
/** ID tokens this long cover any load the runner allows. */
const ID_TOKEN_TTL_S = 3600;

/**
 * jitgate on `db` with bench/policy.yaml plus a trusted issuer: a demo
 * identity provider started with the server and stopped with it.
 */
function withIdentityProvider(db: 'sqlite' | 'postgres'): { spec: ServerSpec; idp: () => DemoIdentityProvider } {
  let idp: DemoIdentityProvider | null = null;
  const base = jitgate(`jitgate-${db}-idp`, db === 'sqlite' ? 'jitgate (SQLite)' : 'jitgate (PostgreSQL)', db, {
    label: 'bench/policy.yaml + identity.trusted_issuers',
    async write(env: StartEnv) {
      if (!idp) throw new Error('the identity provider starts before the policy is written');
      const dir = join(env.workDir, `idp-policy-${process.pid}-${Date.now()}`);
      await mkdir(dir, { recursive: true });
      const path = join(dir, 'policy.yaml');
      const text = await readFile(join(env.rootDir, 'bench/policy.yaml'), 'utf8');
      await writeFile(path, `${text}\n${trustedIssuerBlock(idp)}`);
      return path;
    },
  });
  return {
    idp: () => {
      if (!idp) throw new Error('the identity provider is not running');
      return idp;
    },
    spec: {
      ...base,
      describe: `${base.describe}; the demo identity provider on loopback as its trusted issuer`,
      async start(env: StartEnv): Promise<RunningServer> {
        idp = await startDemoIdentityProvider({ users: [PERSON], idTokenTtlS: ID_TOKEN_TTL_S });
        try {
          const server = await base.start(env);
          return {
            ...server,
            async stop() {
              await server.stop();
              await idp?.close();
              idp = null;
            },
          };
        } catch (err) {
          await idp.close();
          idp = null;
          throw err;
        }
      },
    },
  };
}

function trustedIssuerBlock(idp: DemoIdentityProvider): string {
  return [
    'identity:',
    '  trusted_issuers:',
    `    - issuer: ${JSON.stringify(idp.issuer)}`,
    `      jwks_uri: ${JSON.stringify(idp.jwksUri)}`,
    `      audience: ${DEMO_IDP_AUDIENCE}`,
    '      subject: "user:{sub}"',
    '',
  ].join('\n');
}

/** The exchange load: one ID token, fetched from the identity provider, exchanged over and over. */
function exchangePlan(idp: () => DemoIdentityProvider) {
  return async (server: RunningServer, settings: MeasureSettings): Promise<LoadPlan> => {
    const neededS = Math.ceil(settings.warmupS + settings.durationS + MARGIN_S);
    if (neededS > ID_TOKEN_TTL_S) throw new Error(`the load needs an ID token valid ${neededS} s, longer than ${ID_TOKEN_TTL_S} s: shorten --duration`);
    const res = await fetch(idp().idTokenUrl(PERSON));
    if (!res.ok) throw new Error(`the identity provider answered ${res.status} for an ID token`);
    const idToken = (await res.text()).trim();
    const url = endpoint(server, 'token_endpoint');
    const body = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE,
      client_id: CLI_CLIENT_ID,
      subject_token: idToken,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
    }).toString();
    // The same check as every token case: the exchange answers an ES256 JWT for the person's baseline.
    assertEs256Jwt(server.id, await requestAccessToken(url, body, null));
    return {
      method: 'POST',
      url,
      headers: { 'content-type': FORM },
      bodies: [body],
      expectBody: `"scope":"${BENCH_SCOPE}"`,
      describe: `POST ${new URL(url).pathname} grant_type=token-exchange, subject_token=<an ES256 ID token of the trusted issuer>, subject_token_type=id_token, client_id=${CLI_CLIENT_ID} (public)`,
    };
  };
}

export const tokenExchangeBaseline: BenchCase = {
  name: 'token_exchange_baseline',
  summary:
    `POST to the token endpoint with grant_type=token-exchange: an ES256 ID token of a trusted issuer (subject_token_type ` +
    `id_token) exchanged by the public client ${CLI_CLIENT_ID} for the person's baseline token (${BENCH_SCOPE}). The ` +
    `issuer is jitgate's demo identity provider on loopback; its JWKS is fetched once and cached. Every response must ` +
    `carry the baseline scope. The exchange verifies the ID token's signature and claims, maps its subject, and signs ` +
    `and stores a token: jitgate's own client_credentials on the same database is measured beside it for reference.`,
  subjects: ({ pg }) =>
    jitgateVariants(pg).flatMap((reference): Subject[] => {
      const { spec, idp } = withIdentityProvider(reference.id === 'jitgate-pg' ? 'postgres' : 'sqlite');
      return [
        { server: spec, role: 'jitgate', prepare: exchangePlan(idp) },
        {
          server: reference,
          role: 'peer',
          label: `${reference.label}, client_credentials`,
          against: [spec.id],
          note: 'The client_credentials load of the client_credentials case, on a fresh server of the same kind: the reference cost of issuing a token.',
          prepare: tokenPlan,
        },
      ];
    }),
};
