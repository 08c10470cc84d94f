import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, SECRETS, type TestServer } from './helpers/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

forEachDatabase('an independent OAuth client', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: 'ci-pipeline' };
  const auth = oauth.ClientSecretBasic(SECRETS['ci-pipeline']);
  const rs: oauth.Client = { client_id: 'resource-server' };
  const rsAuth = oauth.ClientSecretBasic(SECRETS['resource-server']);

  before(async () => {
    srv = await startTestServer({ open });
    const issuer = new URL(srv.ctx.config.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(() => srv.close());

  test('discovers the server through RFC 8414 metadata and the OIDC alias', async () => {
    assert.equal(as.issuer, srv.ctx.config.issuer);
    assert.equal(as.token_endpoint, `${srv.ctx.config.issuer}/token`);
    assert.ok(as.grant_types_supported?.includes('client_credentials'));
    const alias = await fetch(`${srv.url}/.well-known/openid-configuration`).then((r) => r.json() as Promise<any>);
    assert.equal(alias.issuer, as.issuer);
  });

  test('gets a baseline client_credentials token that verifies against the JWKS as at+jwt', async () => {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'read:logs read:metrics');
    // read:metrics has max_ttl 5m: the token may not outlive it.
    assert.equal(tokens.expires_in, 300);

    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: as.issuer,
      audience: as.issuer,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'client:ci-pipeline');
    assert.equal(payload.client_id, 'ci-pipeline');
    assert.equal(payload.scope, 'read:logs read:metrics');
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.exp! - payload.iat!, 300);
  });

  test('narrows to the requested scopes and to what the resource accepts', async () => {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'read:logs', resource: 'https://billing.internal' }, insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    assert.equal(tokens.scope, 'read:logs');
    assert.equal(tokens.expires_in, 900);
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), { audience: 'https://billing.internal' });
    assert.equal(payload.aud, 'https://billing.internal');
  });

  test('introspects the token as active, then revokes it and introspects it as inactive', async () => {
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure),
    );
    const active = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, tokens.access_token, insecure));
    assert.equal(active.active, true);
    assert.equal(active.sub, 'client:ci-pipeline');
    assert.equal(active.client_id, 'ci-pipeline');
    assert.equal(active.scope, 'read:logs read:metrics');
    assert.equal(active.token_type, 'Bearer');

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure));
    const inactive = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, tokens.access_token, insecure));
    assert.deepEqual(inactive, { active: false });
  });

  test('a token altered by one character is not active', async () => {
    const tokens = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure));
    const t = tokens.access_token;
    const forged = t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.at(-1);
    const res = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, forged, insecure));
    assert.equal(res.active, false);
  });
});
