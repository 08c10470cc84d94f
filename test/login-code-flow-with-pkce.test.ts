import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import { totpCode } from '../src/identity/totp.js';
import { TestBrowser, CLI, authorizationUrl, discover, insecure, openLoginPage, redeem, submitLogin } from './helpers/code-flow.js';
import { Secret } from 'otpauth';

const START_MS = Date.parse('2026-11-24T09:00:10Z');
const ALICE = { username: 'alice', password: 'correct horse battery staple' };
const BOB = { username: 'bob', password: 'bob has a long enough passphrase' };

forEachDatabase('authorization code flow with PKCE through the login page', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  let bobSecret: Uint8Array;
  const clock = new FrozenClock(START_MS);

  before(async () => {
    srv = await startTestServer({ open, clock });
    as = await discover(srv.ctx.config.issuer);
    await srv.ctx.users.add(ALICE.username, ALICE.password);
    await srv.ctx.users.add(BOB.username, BOB.password);
    const enrolled = await srv.ctx.users.enrollTotp(BOB.username, 'jitgate');
    bobSecret = Secret.fromBase32(enrolled.secret).bytes;
  });
  after(() => srv.close());

  const me = (token: string) =>
    fetch(`${srv.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const introspect = async (token: string) =>
    (await postForm(`${srv.url}/introspect`, { token }, { authorization: basic('resource-server', SECRETS['resource-server']) })).body;
  const countEvents = async (type: string) =>
    Number((await srv.ctx.store.db.selectFrom('audit_events').select((e) => e.fn.countAll().as('n')).where('type', '=', type).executeTakeFirstOrThrow()).n);

  test('discovery announces the authorization endpoint, S256 only and the iss parameter', () => {
    assert.equal(as.authorization_endpoint, `${srv.ctx.config.issuer}/authorize`);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(as.response_types_supported, ['code']);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    assert.ok(as.grant_types_supported?.includes('authorization_code'));
  });

  test('a person signs in on the page, the client redeems the code, and the token works at /api/v1/me', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as, { scope: 'read:logs' });
    const page = await openLoginPage(browser, started);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const part of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self' http://127.0.0.1"]) assert.ok(csp.includes(part), csp);
    assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.ok(page.fields().csrf && page.fields().request, 'the form carries its CSRF token and request id');

    const loginsBefore = await countEvents('user.login');
    const done = await submitLogin(browser, page, ALICE);
    assert.equal(done.status, 303, done.html);
    const location = new URL(done.location!);
    assert.equal(location.origin + location.pathname, 'http://127.0.0.1/callback');
    assert.equal(location.searchParams.get('iss'), srv.ctx.config.issuer);
    assert.equal(location.searchParams.get('state'), started.state);
    assert.ok([...browser.cookies.keys()].includes('jitgate_session'), 'a session cookie is set (plain name on an http issuer)');

    const tokens = await redeem(as, started, done.location!);
    assert.equal(tokens.scope, 'read:logs');
    assert.equal(typeof tokens.refresh_token, 'string', 'a person signing in gets a refresh token');
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.sub, 'user:alice');
    assert.equal(claims.client_id, 'jitgate-cli');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.auth_time, Math.floor(START_MS / 1000));
    const who = await me(tokens.access_token);
    assert.equal(who.status, 200, JSON.stringify(who.body));
    assert.equal(who.body.principal, 'user:alice');

    assert.equal(await countEvents('user.login'), loginsBefore + 1);
    const ev = await srv.ctx.store.db.selectFrom('audit_events').select('data').where('type', '=', 'user.login').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    assert.ok(!ev.data.includes(ALICE.password), 'the password never reaches the audit log');
    assert.deepEqual(JSON.parse(ev.data).amr, ['pwd']);
    assert.equal(JSON.parse(ev.data).client_id, 'jitgate-cli');

    // The session answers the next authorization request without the page.
    const again = await authorizationUrl(as);
    const quick = await browser.get(again.url.href);
    assert.equal(quick.status, 303);
    assert.match(quick.location!, /^http:\/\/127\.0\.0\.1\/callback\?code=/);
    assert.equal(decodeJwt((await redeem(as, again, quick.location!)).access_token).sub, 'user:alice');

    // prompt=login shows the page again despite the session.
    const forced = await browser.get((await authorizationUrl(as, { prompt: 'login' })).url.href);
    assert.match(forced.location ?? '', /^\/login\?request=/);
  });

  test('PKCE is required and only S256: a missing or plain challenge is an error redirect with iss and state', async () => {
    const browser = new TestBrowser(srv.url);
    for (const [label, mutate] of [
      ['missing', (u: URL) => (u.searchParams.delete('code_challenge'), u.searchParams.delete('code_challenge_method'))],
      ['plain', (u: URL) => u.searchParams.set('code_challenge_method', 'plain')],
      ['method missing', (u: URL) => u.searchParams.delete('code_challenge_method')],
    ] as const) {
      const started = await authorizationUrl(as);
      mutate(started.url);
      const res = await browser.get(started.url.href);
      assert.equal(res.status, 303, label);
      const loc = new URL(res.location!);
      assert.equal(loc.searchParams.get('error'), 'invalid_request', label);
      assert.equal(loc.searchParams.get('iss'), srv.ctx.config.issuer, label);
      assert.equal(loc.searchParams.get('state'), started.state, label);
      assert.throws(() => oauth.validateAuthResponse(as, CLI, loc, started.state), oauth.AuthorizationResponseError);
    }
    const wrongType = await authorizationUrl(as, { response_type: 'token' });
    assert.equal(new URL((await browser.get(wrongType.url.href)).location!).searchParams.get('error'), 'unsupported_response_type');
  });

  test('a redirect URI that is not registered, or an unknown client, is shown on a page and never redirected to', async () => {
    const browser = new TestBrowser(srv.url);
    for (const [label, uri] of [
      ['another host', 'https://evil.example/callback'],
      ['another path on loopback', 'http://127.0.0.1:8080/other'],
      ['localhost is not loopback', 'http://localhost/callback'],
    ] as const) {
      const started = await authorizationUrl(as, {}, uri);
      const res = await browser.get(started.url.href);
      assert.equal(res.status, 400, label);
      assert.equal(res.location, null, label);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.html, /not registered/);
    }
    const unknown = await authorizationUrl(as, { client_id: 'nobody' });
    const res = await browser.get(unknown.url.href);
    assert.equal(res.status, 400);
    assert.equal(res.location, null);
  });

  test('a loopback redirect URI may use any port (RFC 8252 §7.3)', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as, {}, 'http://127.0.0.1:49152/callback');
    const page = await openLoginPage(browser, started);
    assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self' http:\/\/127\.0\.0\.1:49152/);
    const done = await submitLogin(browser, page, ALICE);
    assert.match(done.location!, /^http:\/\/127\.0\.0\.1:49152\/callback\?code=/);
    const tokens = await redeem(as, started, done.location!);
    assert.equal(decodeJwt(tokens.access_token).sub, 'user:alice');
  });

  test('a wrong code_verifier is invalid_grant and uses the code up', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as);
    const done = await submitLogin(browser, await openLoginPage(browser, started), ALICE);
    const params = oauth.validateAuthResponse(as, CLI, new URL(done.location!), started.state);
    const wrong = await oauth.authorizationCodeGrantRequest(as, CLI, oauth.None(), params, started.redirectUri, oauth.generateRandomCodeVerifier(), insecure);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, CLI, wrong), (e: any) => e.error === 'invalid_grant');
    const right = await oauth.authorizationCodeGrantRequest(as, CLI, oauth.None(), params, started.redirectUri, started.verifier, insecure);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, CLI, right), (e: any) => e.error === 'invalid_grant');
  });

  test('a code redeemed with another redirect_uri or by another client is refused', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as, {}, 'http://127.0.0.1:5000/callback');
    const done = await submitLogin(browser, await openLoginPage(browser, started), ALICE);
    const code = new URL(done.location!).searchParams.get('code')!;
    const res = await postForm(`${srv.url}/token`, {
      grant_type: 'authorization_code',
      client_id: 'jitgate-cli',
      code,
      redirect_uri: 'http://127.0.0.1:5001/callback',
      code_verifier: started.verifier,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
    assert.match(res.body.error_description, /redirect_uri/);

    const other = await authorizationUrl(as);
    const fresh = new TestBrowser(srv.url);
    const done2 = await submitLogin(fresh, await openLoginPage(fresh, other), ALICE);
    const res2 = await postForm(
      `${srv.url}/token`,
      { grant_type: 'authorization_code', code: new URL(done2.location!).searchParams.get('code')!, redirect_uri: other.redirectUri, code_verifier: other.verifier },
      { authorization: basic('ci-pipeline', SECRETS['ci-pipeline']) },
    );
    assert.equal(res2.body.error, 'invalid_grant');
  });

  test('a replayed code is refused and the tokens issued from it are revoked', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as);
    const done = await submitLogin(browser, await openLoginPage(browser, started), ALICE);
    const tokens = await redeem(as, started, done.location!);
    assert.equal((await introspect(tokens.access_token)).active, true);

    const code = new URL(done.location!).searchParams.get('code')!;
    const replay = await postForm(`${srv.url}/token`, {
      grant_type: 'authorization_code',
      client_id: 'jitgate-cli',
      code,
      redirect_uri: started.redirectUri,
      code_verifier: started.verifier,
    });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal((await introspect(tokens.access_token)).active, false, 'the first token is revoked');
    const refreshed = await postForm(`${srv.url}/token`, { grant_type: 'refresh_token', client_id: 'jitgate-cli', refresh_token: tokens.refresh_token! });
    assert.equal(refreshed.body.error, 'invalid_grant', 'the refresh token from the code is revoked too');
  });

  test('a code older than 60 seconds is refused', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as);
    const done = await submitLogin(browser, await openLoginPage(browser, started), ALICE);
    clock.advance(61);
    try {
      await assert.rejects(redeem(as, started, done.location!), (e: any) => e.error === 'invalid_grant');
    } finally {
      clock.advance(-61);
    }
  });

  test('login CSRF: a post without the token, with a wrong one, or from another browser is 403 and starts no session', async () => {
    const browser = new TestBrowser(srv.url);
    const page = await openLoginPage(browser, await authorizationUrl(as));
    const f = page.fields();
    const before = await srv.ctx.store.db.selectFrom('login_sessions').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
    for (const [label, b, form] of [
      ['no token', browser, { request: f.request!, username: ALICE.username, password: ALICE.password }],
      ['wrong token', browser, { request: f.request!, csrf: `${f.csrf!.slice(0, -2)}AA`, username: ALICE.username, password: ALICE.password }],
      ['another browser', new TestBrowser(srv.url), { request: f.request!, csrf: f.csrf!, username: ALICE.username, password: ALICE.password }],
    ] as const) {
      const res = await b.post('/login', form);
      assert.equal(res.status, 403, label);
      assert.equal(res.location, null, label);
      assert.equal(res.headers.getSetCookie().filter((c) => c.startsWith('jitgate_session=')).length, 0, label);
    }
    const after = await srv.ctx.store.db.selectFrom('login_sessions').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
    // The page opened from another browser is refused too.
    assert.equal((await new TestBrowser(srv.url).get(`/login?request=${f.request}`)).status, 403);
  });

  test('a wrong password and wrong or replayed TOTP codes are explained on the page', async () => {
    const browser = new TestBrowser(srv.url);
    let page = await openLoginPage(browser, await authorizationUrl(as));
    let res = await submitLogin(browser, page, { ...ALICE, password: 'not the password at all' });
    assert.equal(res.status, 401);
    assert.equal(res.error, 'Unknown username or wrong password.');
    assert.equal(res.location, null);
    assert.equal(res.fields().username, 'alice', 'the username stays filled in, the password does not');
    assert.equal(res.fields().password, undefined);

    res = await submitLogin(browser, res, BOB);
    assert.equal(res.status, 401);
    assert.match(res.error!, /one-time code/);
    res = await submitLogin(browser, res, { ...BOB, otp: wrongCode(totpCode(bobSecret, clock.nowMs())) });
    assert.equal(res.status, 401);
    assert.match(res.error!, /wrong or has expired/);

    const code = totpCode(bobSecret, clock.nowMs());
    const started = await authorizationUrl(as);
    page = await openLoginPage(browser, started);
    const ok = await submitLogin(browser, page, { ...BOB, otp: code });
    assert.equal(ok.status, 303, ok.html);
    const tokens = await redeem(as, started, ok.location!);
    assert.deepEqual(decodeJwt(tokens.access_token).amr, ['pwd', 'otp', 'mfa']);

    const replayBrowser = new TestBrowser(srv.url);
    const replayed = await submitLogin(replayBrowser, await openLoginPage(replayBrowser, await authorizationUrl(as)), { ...BOB, otp: code });
    assert.equal(replayed.status, 401);
    assert.match(replayed.error!, /used already/);
  });

  test('a locked account is 429 with Retry-After and the lock explained, even with the right password', async () => {
    await srv.ctx.users.add('dave', 'dave has a long enough passphrase');
    const browser = new TestBrowser(srv.url);
    let page = await openLoginPage(browser, await authorizationUrl(as));
    for (let i = 0; i < 5; i++) page = await submitLogin(browser, page, { username: 'dave', password: `wrong password number ${i}` });
    const locked = await submitLogin(browser, page, { username: 'dave', password: 'dave has a long enough passphrase' });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.match(locked.error!, /locked/);
    assert.equal(locked.location, null);
  });

  test('too many failures from one address are refused with 429 and Retry-After', async () => {
    // A separate server: the address limit is per process, and the other tests share 127.0.0.1.
    const tight = await startTestServer({ open, clock, config: { maxAuthFailuresPerAddress: 2 } });
    try {
      await tight.ctx.users.add('carol', 'carol has a long enough passphrase');
      const tas = await discover(tight.ctx.config.issuer);
      const browser = new TestBrowser(tight.url);
      let page = await openLoginPage(browser, await authorizationUrl(tas));
      for (let i = 0; i < 2; i++) page = await submitLogin(browser, page, { username: 'carol', password: `wrong password number ${i}` });
      const blocked = await submitLogin(browser, page, { username: 'carol', password: 'carol has a long enough passphrase' });
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      assert.match(blocked.error!, /Too many failed sign-ins/);
    } finally {
      await tight.close();
    }
  });

  test('a scope beyond the baseline comes back as invalid_scope after sign-in, not as a code', async () => {
    const browser = new TestBrowser(srv.url);
    const started = await authorizationUrl(as, { scope: 'deploy:prod' });
    const done = await submitLogin(browser, await openLoginPage(browser, started), ALICE);
    const loc = new URL(done.location!);
    assert.equal(loc.searchParams.get('error'), 'invalid_scope');
    assert.equal(loc.searchParams.get('code'), null);
    assert.equal(loc.searchParams.get('iss'), srv.ctx.config.issuer);
  });

  test('malformed requests to the pages get a clear 4xx page, never a 500', async () => {
    const json = await fetch(`${srv.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"alice"}' });
    assert.equal(json.status, 415);
    assert.match(json.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(json.headers.get('x-frame-options'), 'DENY');
    assert.equal((await fetch(`${srv.url}/login?request=nope`)).status, 400);
    assert.equal((await fetch(`${srv.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'request=x' })).status, 400);
    const twice = await authorizationUrl(as);
    twice.url.searchParams.append('scope', 'read:logs');
    twice.url.searchParams.append('scope', 'read:logs');
    const res = await fetch(twice.url, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    const dupClient = await fetch(`${srv.url}/authorize?client_id=jitgate-cli&client_id=jitgate-cli`, { redirect: 'manual' });
    assert.equal(dupClient.status, 400);
    assert.equal(dupClient.headers.get('location'), null);
  });

  test('the same form posted twice signs in once', async () => {
    const browser = new TestBrowser(srv.url);
    const page = await openLoginPage(browser, await authorizationUrl(as));
    assert.equal((await submitLogin(browser, page, ALICE)).status, 303);
    const second = await submitLogin(browser, page, ALICE);
    assert.equal(second.status, 400);
    assert.equal(second.location, null);
  });

});

/** A six-digit code that is not `code`. */
function wrongCode(code: string): string {
  return code.replace(/^./, (d) => String((Number(d) + 1) % 10));
}
