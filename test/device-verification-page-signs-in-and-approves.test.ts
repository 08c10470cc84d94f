import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import { TestBrowser, CLI, discover, insecure, signIn } from './helpers/code-flow.js';

const START_MS = Date.parse('2026-11-24T09:00:10Z');
const ALICE = { username: 'alice', password: 'correct horse battery staple' };

forEachDatabase('the device verification page (RFC 8628 §3.3)', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const clock = new FrozenClock(START_MS);

  before(async () => {
    srv = await startTestServer({ open, clock });
    as = await discover(srv.ctx.config.issuer);
    await srv.ctx.users.add(ALICE.username, ALICE.password);
  });
  after(() => srv.close());

  const startDevice = async () =>
    oauth.processDeviceAuthorizationResponse(as, CLI, await oauth.deviceAuthorizationRequest(as, CLI, oauth.None(), { scope: 'read:logs' }, insecure));
  // Polls more often than every 5 s are told to slow down: time moves between them.
  const poll = async (deviceCode: string) => {
    clock.advance(6);
    return oauth.processDeviceCodeResponse(as, CLI, await oauth.deviceCodeGrantRequest(as, CLI, oauth.None(), deviceCode, insecure));
  };

  test('verification_uri_complete prefills the code; signing in on the page approves the device and its poll gets a token', async () => {
    const da = await startDevice();
    const browser = new TestBrowser(srv.url);
    const page = await browser.get(new URL(da.verification_uri_complete!).pathname + new URL(da.verification_uri_complete!).search);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    const f = page.fields();
    assert.equal(f.user_code, da.user_code);

    const wrong = await browser.post('/device', { request: f.request!, csrf: f.csrf!, user_code: da.user_code, action: 'approve', username: 'alice', password: 'wrong password here' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.error!, /wrong password/);

    const done = await browser.post('/device', { request: f.request!, csrf: f.csrf!, user_code: da.user_code, action: 'approve', ...ALICE });
    assert.equal(done.status, 200, done.html);
    assert.match(done.html, /Device approved/);
    const tokens = await poll(da.device_code);
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.sub, 'user:alice');
    assert.deepEqual(claims.amr, ['pwd']);
  });

  test('with a session the page only asks to approve; deny refuses the device; a post without the CSRF token is 403', async () => {
    const browser = new TestBrowser(srv.url);
    await signIn(as, browser, ALICE);

    const da = await startDevice();
    const page = await browser.get('/device');
    assert.match(page.html, /Signed in as <strong>user:alice<\/strong>/);
    assert.equal(page.fields().password, undefined);
    const f = page.fields();

    const forged = await browser.post('/device', { request: f.request!, user_code: da.user_code, action: 'approve' });
    assert.equal(forged.status, 403);
    await assert.rejects(poll(da.device_code), (e: any) => e.error === 'authorization_pending');

    const unknown = await browser.post('/device', { request: f.request!, csrf: f.csrf!, user_code: 'BCDF-GHJK', action: 'approve' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.error!, /unknown or has expired/);

    const approved = await browser.post('/device', { request: f.request!, csrf: f.csrf!, user_code: da.user_code.toLowerCase(), action: 'approve' });
    assert.equal(approved.status, 200, approved.html);
    assert.equal(decodeJwt((await poll(da.device_code)).access_token).sub, 'user:alice');

    const other = await startDevice();
    const denied = await browser.post('/device', { request: f.request!, csrf: f.csrf!, user_code: other.user_code, action: 'deny' });
    assert.equal(denied.status, 200);
    assert.match(denied.html, /Device denied/);
    await assert.rejects(poll(other.device_code), (e: any) => e.error === 'access_denied');
  });
});
