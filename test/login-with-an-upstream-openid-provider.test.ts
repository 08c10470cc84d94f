import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, FIXTURE_POLICY, type TestServer } from './helpers/server.js';
import { TestIdp } from './helpers/idp.js';
import { FrozenClock } from '../src/util/clock.js';
import { MFA_ACR } from '../src/identity/mfa.js';
import { TestBrowser, authorizationUrl, discover, openLoginPage, redeem, type Started } from './helpers/code-flow.js';
import type { Page } from './helpers/browser.js';

const START_MS = Date.parse('2026-11-24T09:00:10Z');
const SECRET_ENV = 'JITGATE_TEST_UPSTREAM_SECRET';
const UPSTREAM_SECRET = 'upstream-client-secret-0123456789abcdef';

const POLICY = FIXTURE_POLICY.replace(
  '      mfa_amr: [mfa, otp, hwk]\n',
  `      mfa_amr: [mfa, otp, hwk]
  login:
    upstream:
      issuer: IDP_ISSUER
      client_id: jitgate-login
      client_secret_env: ${SECRET_ENV}
      scopes: [openid, profile]
      subject: "user:{sub}"
      mfa_amr: [hwk]
      name: Test SSO
`,
);

forEachDatabase('sign-in through an upstream OpenID Provider', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const idp = new TestIdp();
  const clock = new FrozenClock(START_MS);

  before(async () => {
    process.env[SECRET_ENV] = UPSTREAM_SECRET;
    await idp.start();
    idp.nowS = () => Math.floor(clock.nowMs() / 1000);
    srv = await startTestServer({ open, clock, policyText: POLICY, substitute: { IDP_ISSUER: idp.issuer } });
    idp.rp = { clientId: 'jitgate-login', secret: UPSTREAM_SECRET, redirectUri: `${srv.ctx.config.issuer}/login/callback` };
    as = await discover(srv.ctx.config.issuer);
  });
  after(async () => {
    await srv.close();
    await idp.close();
    delete process.env[SECRET_ENV];
  });

  /** Presses "Sign in with Test SSO" and follows the provider back to jitgate's callback. */
  const viaUpstream = async (browser: TestBrowser, page: Page): Promise<Page> => {
    const f = page.fields();
    const toIdp = await browser.post('/login', { request: f.request!, csrf: f.csrf!, action: 'upstream' });
    assert.equal(toIdp.status, 303, toIdp.html);
    assert.ok(toIdp.location!.startsWith(`${idp.issuer}/authorize?`), toIdp.location!);
    const back = await fetch(toIdp.location!, { redirect: 'manual' });
    assert.equal(back.status, 303);
    const callback = back.headers.get('location')!;
    assert.ok(callback.startsWith(`${srv.ctx.config.issuer}/login/callback?`), callback);
    return browser.get(callback.slice(srv.ctx.config.issuer.length));
  };
  const start = async (browser: TestBrowser, params: Record<string, string> = {}): Promise<{ started: Started; page: Page }> => {
    const started = await authorizationUrl(as, params);
    return { started, page: await openLoginPage(browser, started) };
  };

  test('the page offers the provider; jitgate sends PKCE, state and nonce; the ID token becomes a jitgate token', async () => {
    idp.signsIn = { sub: 'alice', amr: ['pwd'], authAgeS: 5 };
    const browser = new TestBrowser(srv.url);
    const { started, page } = await start(browser, { scope: 'read:logs' });
    assert.match(page.html, /Sign in with Test SSO/);
    assert.ok((page.headers.get('content-security-policy') ?? '').includes(idp.issuer), 'form-action allows the provider');

    const done = await viaUpstream(browser, page);
    const sent = idp.lastAuthorize!;
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.equal(sent.get('scope'), 'openid profile');
    assert.ok(sent.get('nonce') && sent.get('state') && sent.get('code_challenge'));
    assert.equal(done.status, 303, done.html);
    const tokens = await redeem(as, started, done.location!);
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.sub, 'user:alice');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.auth_time, Math.floor(clock.nowMs() / 1000) - 5, 'auth_time comes from the provider');

    const ev = await srv.ctx.store.db.selectFrom('audit_events').select('data').where('type', '=', 'user.login').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(ev.data).method, 'upstream');
    assert.equal(JSON.parse(ev.data).issuer, idp.issuer);
  });

  test('when MFA is asked for, a provider sign-in without an MFA amr is refused and one with it passes', async () => {
    idp.signsIn = { sub: 'bob', amr: ['pwd'] };
    let browser = new TestBrowser(srv.url);
    let { page } = await start(browser, { acr_values: MFA_ACR });
    const refused = await viaUpstream(browser, page);
    assert.equal(refused.status, 401);
    assert.match(refused.html, /did not include MFA/);
    assert.equal(refused.location, null);

    idp.signsIn = { sub: 'bob', amr: ['pwd', 'hwk'] };
    browser = new TestBrowser(srv.url);
    let started;
    ({ started, page } = await start(browser, { acr_values: MFA_ACR }));
    const done = await viaUpstream(browser, page);
    assert.equal(done.status, 303, done.html);
    const claims = decodeJwt((await redeem(as, started, done.location!)).access_token);
    assert.equal(claims.sub, 'user:bob');
    assert.equal(claims.acr, MFA_ACR);
    assert.deepEqual(claims.amr, ['pwd', 'hwk']);
  });

  test('a subject outside the policy, a provider refusal, an unknown state and another browser are refused on a page', async () => {
    idp.signsIn = { sub: 'mallory', amr: ['pwd'] };
    let browser = new TestBrowser(srv.url);
    let refused = await viaUpstream(browser, (await start(browser)).page);
    assert.equal(refused.status, 401);
    assert.match(refused.html, /user:mallory is not a member/);

    idp.signsIn = null;
    browser = new TestBrowser(srv.url);
    refused = await viaUpstream(browser, (await start(browser)).page);
    assert.equal(refused.status, 401);
    assert.match(refused.html, /access_denied/);

    assert.equal((await new TestBrowser(srv.url).get('/login/callback?code=x&state=unknown')).status, 400);

    // An ID token for another sign-in (nonce), for another client (aud), or expired is refused.
    idp.signsIn = { sub: 'alice', amr: ['pwd'] };
    for (const [overrides, why] of [
      [{ nonce: 'another-sign-in' }, /nonce/],
      [{ aud: 'another-client' }, /claim aud is invalid/],
      [{ exp: Math.floor(clock.nowMs() / 1000) - 60 }, /token expired/],
    ] as const) {
      idp.idTokenOverrides = overrides;
      try {
        browser = new TestBrowser(srv.url);
        refused = await viaUpstream(browser, (await start(browser)).page);
      } finally {
        idp.idTokenOverrides = null;
      }
      assert.equal(refused.status, 401, JSON.stringify(overrides));
      assert.match(refused.html, why);
      assert.equal(refused.location, null);
    }

    // The provider's answer carried to a browser that did not start the sign-in.
    idp.signsIn = { sub: 'alice', amr: ['pwd'] };
    browser = new TestBrowser(srv.url);
    const page = (await start(browser)).page;
    const f = page.fields();
    const toIdp = await browser.post('/login', { request: f.request!, csrf: f.csrf!, action: 'upstream' });
    const back = await fetch(toIdp.location!, { redirect: 'manual' });
    const stranger = await new TestBrowser(srv.url).get(back.headers.get('location')!.slice(srv.ctx.config.issuer.length));
    assert.equal(stranger.status, 403);
    assert.equal(stranger.location, null);
  });
});
