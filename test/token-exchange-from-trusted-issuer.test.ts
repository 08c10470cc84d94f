import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT, generateKeyPair, exportJWK, jwtVerify, createRemoteJWKSet } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, type TestServer } from './helpers/server.js';
import { TestIdp } from './helpers/idp.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

forEachDatabase('token exchange of a trusted issuer’s token', (open) => {
  let srv: TestServer;
  let idp: TestIdp;
  const exchange = (subject_token: string, extra: Record<string, string> = {}) =>
    postForm(`${srv.url}/token`, {
      grant_type: EXCHANGE,
      client_id: 'jitgate-cli',
      subject_token,
      subject_token_type: ID_TOKEN,
      ...extra,
    });

  before(async () => {
    idp = await new TestIdp().start();
    srv = await startTestServer({
      open,
      substitute: { 'https://idp.test.invalid/jwks': idp.jwksUri, 'https://idp.test.invalid': idp.issuer },
      config: { federationJwksCooldownMs: 0 },
    });
  });
  after(async () => {
    await srv.close();
    await idp.close();
  });

  test('an ID token becomes a baseline token for the mapped principal, carrying amr/acr/auth_time', async () => {
    const authTime = Math.floor(Date.now() / 1000) - 60;
    const idToken = await idp.idToken({ sub: 'alice', amr: ['pwd', 'otp'], acr: 'urn:mfa', auth_time: authTime });
    const res = await exchange(idToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(res.body.scope, 'read:logs');
    assert.equal(res.body.refresh_token, undefined);
    const { payload } = await jwtVerify(res.body.access_token, createRemoteJWKSet(new URL(`${srv.url}/jwks`)), {
      issuer: srv.ctx.config.issuer,
      typ: 'at+jwt',
    });
    assert.equal(payload.sub, 'user:alice');
    assert.equal(payload.client_id, 'jitgate-cli');
    assert.deepEqual(payload.amr, ['pwd', 'otp']);
    assert.equal(payload.acr, 'urn:mfa');
    assert.equal(payload.auth_time, authTime);
  });

  test('asking for a scope the person only may request is invalid_scope', async () => {
    const res = await exchange(await idp.idToken({ sub: 'alice' }), { scope: 'deploy:prod' });
    assert.equal(res.body.error, 'invalid_scope');
  });

  test('a subject not in the policy gets no token', async () => {
    const res = await exchange(await idp.idToken({ sub: 'mallory' }));
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
  });

  test('refused: alg none, HS256 keyed with the issuer’s public key, unknown kid, expired, not yet valid, wrong aud, wrong iss', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = new UnsecuredJWT({ sub: 'alice', aud: 'jitgate' }).setIssuer(idp.issuer).setIssuedAt().setExpirationTime('5m').encode();
    // The classic key-confusion forgery: HMAC with the issuer's public key as secret.
    const pubAsSecret = new TextEncoder().encode(JSON.stringify(idp.publicJwk));
    const hs256 = await new SignJWT({ sub: 'alice', aud: 'jitgate', iss: idp.issuer })
      .setProtectedHeader({ alg: 'HS256', kid: idp.publicJwk.kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(pubAsSecret);
    const stranger = await generateKeyPair('ES256');
    const unknownKid = await new SignJWT({ sub: 'alice', aud: 'jitgate', iss: idp.issuer })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-published' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(stranger.privateKey);
    const cases: [string, string][] = [
      ['alg none', unsigned],
      ['HS256 with public key', hs256],
      ['unknown kid', unknownKid],
      ['expired', await idp.idToken({ sub: 'alice', iat: now - 3600, exp: now - 600 })],
      ['not yet valid', await idp.idToken({ sub: 'alice', nbf: now + 600 })],
      ['wrong aud', await idp.idToken({ sub: 'alice', aud: 'someone-else' })],
      ['wrong iss', await idp.idToken({ sub: 'alice', iss: 'https://evil.example' })],
    ];
    for (const [name, token] of cases) {
      const res = await exchange(token);
      assert.equal(res.status, 400, name);
      assert.equal(res.body.error, 'invalid_grant', `${name}: ${JSON.stringify(res.body)}`);
    }
    // The server keeps serving after all of that.
    const ok = await exchange(await idp.idToken({ sub: 'bob' }));
    assert.equal(ok.status, 200);
    void exportJWK;
  });

  test('a key rotated at the provider is fetched on first sight of its kid', async () => {
    const before = idp.fetches;
    await idp.rotate();
    const res = await exchange(await idp.idToken({ sub: 'alice' }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(idp.fetches > before, 'the JWKS was fetched again');
  });

  test('unsupported subject_token_type and actor tokens are refused', async () => {
    const t = await idp.idToken({ sub: 'alice' });
    const type = await exchange(t, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' });
    assert.equal(type.body.error, 'invalid_request');
    const actor = await exchange(t, { actor_token: t, actor_token_type: ID_TOKEN });
    assert.equal(actor.body.error, 'invalid_request');
  });
});
