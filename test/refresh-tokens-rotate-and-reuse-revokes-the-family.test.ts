import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, FIXTURE_POLICY, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import { MFA_ACR } from '../src/identity/mfa.js';
import { approveDeviceAuthorization } from '../src/oauth/device-codes.js';
import { tokenHash } from '../src/tokens/token-hash.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const START_MS = Date.parse('2026-11-24T09:00:00Z');
const RS = basic('resource-server', SECRETS['resource-server']);
const CI = basic('ci-pipeline', SECRETS['ci-pipeline']);
const ENGINEERS = 'baseline: [read:logs], eligible: [deploy:prod, incident-response]';
/** The fixture policy, with read:billing standing for engineers until the policy is put back. */
const WIDER_POLICY = FIXTURE_POLICY.replace(ENGINEERS, 'baseline: [read:logs, read:billing], eligible: [deploy:prod, incident-response]');

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

forEachDatabase('refresh tokens rotate, and reuse revokes the family', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const clock = new FrozenClock(START_MS);
  const cli: oauth.Client = { client_id: 'jitgate-cli' };
  const none = oauth.None();
  const nowS = () => Math.floor(clock.nowMs() / 1000);

  /** Alice logs in through the device flow (MFA 5 s before); returns the first tokens. */
  async function login(): Promise<{ access: string; refresh: string; authTime: number }> {
    const da = await oauth.processDeviceAuthorizationResponse(as, cli, await oauth.deviceAuthorizationRequest(as, cli, none, {}, insecure));
    const authTime = nowS() - 5;
    assert.ok(await approveDeviceAuthorization(srv.ctx, da.user_code, { principal: 'user:alice', amr: ['pwd', 'otp', 'mfa'], acr: MFA_ACR, authTime }));
    const t = await oauth.processDeviceCodeResponse(as, cli, await oauth.deviceCodeGrantRequest(as, cli, none, da.device_code, insecure));
    return { access: t.access_token, refresh: t.refresh_token!, authTime };
  }
  const refresh = (token: string, extra: Record<string, string> = {}) =>
    postForm(`${srv.url}/token`, { grant_type: 'refresh_token', client_id: 'jitgate-cli', refresh_token: token, ...extra });
  const active = async (token: string) => (await postForm(`${srv.url}/introspect`, { token }, { authorization: RS })).body.active as boolean;

  before(async () => {
    srv = await startTestServer({ open, clock, policyText: WIDER_POLICY });
    const issuer = new URL(srv.ctx.config.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(() => srv.close());

  test('each use rotates; the refreshed token keeps how the person logged in', async () => {
    const first = await login();
    clock.advance(600);
    const res = await oauth.processRefreshTokenResponse(as, cli, await oauth.refreshTokenGrantRequest(as, cli, none, first.refresh, insecure));
    assert.notEqual(res.refresh_token, first.refresh);
    assert.equal(res.scope, 'read:billing read:logs');
    const claims = claimsOf(res.access_token);
    assert.equal(claims.sub, 'user:alice');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, MFA_ACR);
    assert.equal(claims.auth_time, first.authTime, 'a refresh is not a fresh sign-in');
    assert.equal(claims.iat, nowS());

    const narrowed = await refresh(res.refresh_token!, { scope: 'read:logs' });
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    assert.equal(narrowed.body.scope, 'read:logs');

    const wider = await refresh(narrowed.body.refresh_token, { scope: 'read:logs deploy:prod' });
    assert.equal(wider.status, 400);
    assert.equal(wider.body.error, 'invalid_scope');
    const still = await refresh(narrowed.body.refresh_token);
    assert.equal(still.status, 200, 'a refused narrowing does not spend the token');
    assert.equal(still.body.scope, 'read:billing read:logs', 'narrowing one access token does not narrow the family');

    const otherClient = await postForm(`${srv.url}/token`, { grant_type: 'refresh_token', refresh_token: still.body.refresh_token }, { authorization: CI });
    assert.equal(otherClient.body.error, 'invalid_grant');
    assert.equal((await refresh('not-a-refresh-token')).body.error, 'invalid_grant');
  });

  test('reuse of a used token revokes the family and its access tokens', async () => {
    const first = await login();
    const second = await refresh(first.refresh);
    assert.equal(second.status, 200);
    const third = await refresh(second.body.refresh_token);
    assert.equal(third.status, 200);
    assert.equal(await active(third.body.access_token), true);

    const replay = await refresh(first.refresh);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    const latest = await refresh(third.body.refresh_token);
    assert.equal(latest.body.error, 'invalid_grant', 'the newest token of the family is dead too');
    for (const t of [first.access, second.body.access_token, third.body.access_token]) assert.equal(await active(t), false);

    const events = await srv.ctx.store.db.selectFrom('audit_events').select(['actor', 'subject', 'data']).where('type', '=', 'refresh_token.reused').execute();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.subject, 'user:alice');
    const text = JSON.stringify(events);
    for (const t of [first.refresh, second.body.refresh_token, third.body.refresh_token]) assert.ok(!text.includes(t), 'no token value in the audit log');
    const revoked = await srv.ctx.store.db.selectFrom('audit_events').select('data').where('type', '=', 'token.revoked').execute();
    const jtis = revoked.map((r) => JSON.parse(r.data).jti);
    assert.ok(jtis.includes(claimsOf(third.body.access_token).jti), 'revoked through the token revocation path (the gateway feed reads it)');
  });

  test('parallel uses of one refresh token: exactly one succeeds', async () => {
    clock.advance(1); // this test's tokens are the only ones of this second
    const first = await login();
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(first.refresh)));
    assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.body.error ?? 'ok')));
    for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.body.error, 'invalid_grant');
    // A second use cannot be told from a stolen copy: the family ends, the one success included.
    const winner = results.find((r) => r.status === 200)!;
    assert.equal(await active(winner.body.access_token), false);
    assert.equal((await refresh(winner.body.refresh_token)).body.error, 'invalid_grant');
    const live = await srv.ctx.store.db.selectFrom('tokens').select('jti').where('sub', '=', 'user:alice').where('revoked_at', 'is', null).where('iat', '=', nowS()).execute();
    assert.deepEqual(live, [], 'the tokens the losing uses minted were never left active');
  });

  test('idle and absolute lifetimes end the family', async () => {
    const idle = await login();
    clock.advance(srv.ctx.config.refreshTokenIdleS);
    assert.equal((await refresh(idle.refresh)).body.error, 'invalid_grant', 'unused for the idle time');

    let token = (await login()).refresh;
    const step = srv.ctx.config.refreshTokenIdleS - 60;
    let elapsed = 0;
    while (elapsed + step < srv.ctx.config.refreshTokenLifetimeS) {
      clock.advance(step);
      elapsed += step;
      const r = await refresh(token);
      assert.equal(r.status, 200, `${elapsed} s after the login`);
      token = r.body.refresh_token;
    }
    clock.advance(srv.ctx.config.refreshTokenLifetimeS - elapsed);
    const late = await refresh(token);
    assert.equal(late.body.error, 'invalid_grant', 'used in time, but the family is past its absolute lifetime');
    assert.match(late.body.error_description, /expired/);

    // A day after its end the family's rows go when someone logs in.
    clock.advance(86_401);
    await login();
    const left = await srv.ctx.store.db.selectFrom('refresh_tokens').select('token_hash').where('token_hash', '=', tokenHash(token)).execute();
    assert.deepEqual(left, []);
  });

  test('revoking a refresh token at the revocation endpoint revokes its family', async () => {
    const first = await login();
    const next = await refresh(first.refresh);
    const foreign = await postForm(`${srv.url}/revoke`, { token: next.body.refresh_token, token_type_hint: 'refresh_token' }, { authorization: CI });
    assert.equal(foreign.body.error, 'unauthorized_client');
    const res = await postForm(`${srv.url}/revoke`, { client_id: 'jitgate-cli', token: next.body.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(res.status, 200);
    assert.equal((await refresh(next.body.refresh_token)).body.error, 'invalid_grant');
    assert.equal(await active(next.body.access_token), false);
    assert.equal(await active(first.access), false);
    const again = await postForm(`${srv.url}/revoke`, { client_id: 'jitgate-cli', token: next.body.refresh_token });
    assert.equal(again.status, 200, 'revoking twice is fine (RFC 7009)');
  });

  test('client credentials and elevated tokens never come with a refresh token', async () => {
    const cc = await postForm(`${srv.url}/token`, { grant_type: 'client_credentials' }, { authorization: CI });
    assert.equal(cc.status, 200);
    assert.equal(cc.body.refresh_token, undefined);
    const filed = await fetch(`${srv.url}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cc.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['deploy:prod'], duration: '10m', reason: 'deploy main from the pipeline', ticket: 'OPS-2', context: { branch: 'main' } }),
    });
    assert.equal(filed.status, 201, await filed.clone().text());
    const elevated = await postForm(
      `${srv.url}/token`,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: cc.body.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: 'deploy:prod',
        resource: 'https://deploy.internal',
      },
      { authorization: CI },
    );
    assert.equal(elevated.status, 200, JSON.stringify(elevated.body));
    assert.equal(elevated.body.scope, 'deploy:prod');
    assert.equal(elevated.body.refresh_token, undefined);
  });

  test('a refresh after a policy reload drops a scope that is no longer baseline', async () => {
    const first = await login();
    assert.equal(claimsOf(first.access).scope, 'read:billing read:logs');
    await srv.rewritePolicy(FIXTURE_POLICY);
    try {
      const res = await refresh(first.refresh);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.scope, 'read:logs');
      const asked = await refresh(res.body.refresh_token, { scope: 'read:billing' });
      assert.equal(asked.body.error, 'invalid_scope', 'granted at login, but no longer allowed');
    } finally {
      await srv.rewritePolicy(WIDER_POLICY);
    }
  });
});
