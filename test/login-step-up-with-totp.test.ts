import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import { totpCode } from '../src/identity/totp.js';
import { MFA_ACR } from '../src/identity/mfa.js';
import { bearerChallenge } from '../src/cli/client/www-authenticate.js';
import { TestBrowser, authorizationUrl, discover, openLoginPage, redeem, signIn, submitLogin } from './helpers/code-flow.js';
import { Secret } from 'otpauth';

const START_MS = Date.parse('2026-11-24T09:00:10Z');
const BOB = { username: 'bob', password: 'bob has a long enough passphrase' };

forEachDatabase('step-up to MFA through the login page (RFC 9470)', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const clock = new FrozenClock(START_MS);

  before(async () => {
    srv = await startTestServer({ open, clock });
    as = await discover(srv.ctx.config.issuer);
    await srv.ctx.users.add(BOB.username, BOB.password);
  });
  after(() => srv.close());

  const requestDeploy = (token: string) =>
    fetch(`${srv.url}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['deploy:prod'], duration: '30m', reason: 'roll out the payment fix to production', ticket: 'OPS-42' }),
    }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as any }));

  test('password only → 401 challenge → authorize with acr_values and max_age → TOTP on the page → the request succeeds', async () => {
    const browser = new TestBrowser(srv.url);
    const first = await signIn(as, browser, BOB);
    assert.deepEqual(decodeJwt(first.access_token).amr, ['pwd']);

    const refused = await requestDeploy(first.access_token);
    assert.equal(refused.status, 401);
    // What the client learns from the RFC 9470 challenge is what it sends to /authorize.
    const challenge = bearerChallenge(refused.headers.get('www-authenticate'));
    assert.equal(challenge?.error, 'insufficient_user_authentication');
    const acrValues = challenge!.acr_values!;
    const maxAge = challenge!.max_age!;
    assert.equal(acrValues, MFA_ACR);

    // MFA asked for and none enrolled: the page says so rather than letting a password through.
    clock.advance(60);
    let started = await authorizationUrl(as, { acr_values: acrValues, max_age: maxAge });
    let page = await openLoginPage(browser, started);
    assert.match(page.html, /<input type="text" id="otp" name="otp"[^>]* required>/, 'the code field is required');
    const notEnrolled = await submitLogin(browser, page, BOB);
    assert.equal(notEnrolled.status, 401);
    assert.match(notEnrolled.error!, /authenticator app/);

    const enrolled = await srv.ctx.users.enrollTotp(BOB.username, 'jitgate');
    const secret = Secret.fromBase32(enrolled.secret).bytes;
    clock.advance(60);
    started = await authorizationUrl(as, { acr_values: acrValues, max_age: maxAge });
    page = await openLoginPage(browser, started);
    const done = await submitLogin(browser, page, { ...BOB, otp: totpCode(secret, clock.nowMs()) });
    assert.equal(done.status, 303, done.error ?? done.html);
    const stepped = await redeem(as, started, done.location!);
    const claims = decodeJwt(stepped.access_token);
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, MFA_ACR);
    assert.equal(claims.auth_time, Math.floor(clock.nowMs() / 1000), 'auth_time is the new sign-in');

    const ok = await requestDeploy(stepped.access_token);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.requester, 'user:bob');

    // The MFA session now satisfies acr_values without the page, until it is older than max_age.
    const quick = await browser.get((await authorizationUrl(as, { acr_values: acrValues, max_age: maxAge })).url.href);
    assert.match(quick.location!, /^http:\/\/127\.0\.0\.1\/callback\?code=/);
    clock.advance(Number(maxAge) + 1);
    const stale = await browser.get((await authorizationUrl(as, { acr_values: acrValues, max_age: maxAge })).url.href);
    assert.match(stale.location!, /^\/login\?request=/, 'older than max_age: the page again');
  });
});
