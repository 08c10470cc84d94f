import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { SignJWT, generateKeyPair, exportJWK, type CryptoKey } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, FIXTURE_POLICY, type TestServer } from './helpers/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

forEachDatabase('private_key_jwt client authentication', (open) => {
  let srv: TestServer;
  let key: CryptoKey;
  let as: oauth.AuthorizationServer;

  before(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'deployer-1', alg: 'ES256' };
    const policy = FIXTURE_POLICY.replace(
      'clients:\n',
      `clients:\n  deployer:\n    environment: production\n    jwks: { keys: [${JSON.stringify(jwk)}] }\n    baseline: [read:logs]\n`,
    );
    srv = await startTestServer({ open, policyText: policy });
    const issuer = new URL(srv.ctx.config.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(() => srv.close());

  const assertion = (claims: Record<string, unknown> = {}, alg = 'ES256', signKey: CryptoKey | Uint8Array = key) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: 'deployer', sub: 'deployer', aud: srv.ctx.config.issuer, jti: crypto.randomUUID(), iat: now, exp: now + 60, ...claims })
      .setProtectedHeader({ alg, kid: 'deployer-1' })
      .sign(signKey);
  };
  const token = (client_assertion: string) =>
    postForm(`${srv.url}/token`, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion });

  test('oauth4webapi authenticates with a signed assertion and gets a token', async () => {
    const client = { client_id: 'deployer' };
    const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key, kid: 'deployer-1' }), {}, insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    assert.equal(tokens.scope, 'read:logs');
  });

  test('a replayed assertion is refused', async () => {
    const a = await assertion();
    assert.equal((await token(a)).status, 200);
    const replay = await token(a);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_client');
  });

  test('wrong audience, wrong issuer, no jti, too long-lived, expired, and HMAC are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string][] = [
      ['wrong aud', await assertion({ aud: 'https://elsewhere.example' })],
      ['wrong iss', await assertion({ iss: 'ci-pipeline' })],
      ['no jti', await assertion({ jti: undefined })],
      ['lives a day', await assertion({ exp: now + 86_400 })],
      ['expired', await assertion({ iat: now - 600, exp: now - 300 })],
      ['HS256', await assertion({}, 'HS256', new TextEncoder().encode('a-shared-secret-of-sufficient-length!!'))],
    ];
    for (const [name, a] of cases) {
      const res = await token(a);
      assert.equal(res.status, 401, name);
      assert.equal(res.body.error, 'invalid_client', name);
    }
  });

  test('an assertion and a secret together are refused', async () => {
    const res = await postForm(`${srv.url}/token`, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertion(),
      client_secret: 'x',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
  });
});
