import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import { authorizationUrl, discover } from './helpers/code-flow.js';
import { LOGIN_START_WINDOW_MS, MAX_LOGIN_STARTS_PER_ADDRESS } from '../src/login/start-limit.js';

forEachDatabase('sign-ins started per address are bounded', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const clock = new FrozenClock(Date.parse('2026-11-24T09:00:10Z'));
  before(async () => {
    srv = await startTestServer({ open, clock });
    as = await discover(srv.ctx.config.issuer);
  });
  after(() => srv.close());

  const pendingRows = async () => Number((await srv.ctx.store.db.selectFrom('login_requests').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('past the bound the device page and /authorize answer 429 with Retry-After and store nothing; the window passing lifts it', async () => {
    const before = await pendingRows();
    for (let i = 0; i < MAX_LOGIN_STARTS_PER_ADDRESS; i++) {
      const res = await fetch(`${srv.url}/device`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    assert.equal(await pendingRows(), before + MAX_LOGIN_STARTS_PER_ADDRESS);

    const page = await fetch(`${srv.url}/device`);
    assert.equal(page.status, 429);
    assert.equal(page.headers.get('retry-after'), String(LOGIN_START_WINDOW_MS / 1000));
    assert.match(await page.text(), /Too many sign-ins/);
    const started = await authorizationUrl(as);
    const authorize = await fetch(started.url, { redirect: 'manual' });
    assert.equal(authorize.status, 429);
    assert.match(authorize.headers.get('content-type') ?? '', /^text\/html/);
    await authorize.arrayBuffer();
    assert.equal(await pendingRows(), before + MAX_LOGIN_STARTS_PER_ADDRESS, 'a refused start writes no row');

    clock.advance(LOGIN_START_WINDOW_MS / 1000);
    const later = await fetch((await authorizationUrl(as)).url, { redirect: 'manual' });
    assert.equal(later.status, 303);
    assert.match(later.headers.get('location') ?? '', /^\/login\?request=/);
  });
});
