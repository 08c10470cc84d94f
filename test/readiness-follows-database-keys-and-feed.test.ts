import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { request } from 'undici';
import { forEachDatabase, databases } from './helpers/databases.js';
import { gatewayPolicyText, parsePolicy, startTestGateway, startUpstream, GATEWAY_POLICY } from './helpers/gateway.js';
import { startServer } from '../src/http/server.js';

async function get(url: string): Promise<{ status: number; type: string; body: any }> {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, type: String(res.headers['content-type']), body: JSON.parse(text) };
}

forEachDatabase('server readiness', (open) => {
  test('ready while the database answers; 503 naming the database once it is gone; /healthz stays up', async () => {
    const store = await open();
    const srv = await startServer({ policy: parsePolicy(GATEWAY_POLICY.replace(/http:\/\/[a-z-]+\.invalid/g, 'http://127.0.0.1:9')), dbUrl: store.url, store, env: { JITGATE_KEK: randomBytes(32).toString('base64') } });
    try {
      const ready = await get(`${srv.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready', checks: { database: 'ok', signing_keys: 'ok', policy: 'ok' } });

      await store.close();
      const gone = await get(`${srv.url}/readyz`);
      assert.equal(gone.status, 503);
      assert.match(gone.type, /^application\/problem\+json/);
      assert.equal(gone.body.code, 'not_ready');
      assert.match(gone.body.detail, /database/);
      assert.match(gone.body.checks.database, /^not ready/);
      assert.equal(gone.body.checks.signing_keys, 'ok');
      assert.doesNotMatch(JSON.stringify(gone.body), /postgres:\/\/|\.sqlite/, 'no connection details to anonymous callers');
      assert.equal((await get(`${srv.url}/healthz`)).status, 200, 'liveness is not readiness');
    } finally {
      await srv.close();
    }
  });
});

const sqlite = databases.find((d) => d.dialect === 'sqlite')!;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('a gateway is not ready before it has keys and a feed; ready once caught up; not ready when the feed is stale', async () => {
  const upstream = await startUpstream();
  const text = gatewayPolicyText({ billing: upstream.url });

  const lonely = await startTestGateway(`http://127.0.0.1:${await closedPort()}`, text);
  try {
    const early = await get(`${lonely.url}/readyz`);
    assert.equal(early.status, 503);
    assert.equal(early.body.code, 'not_ready');
    assert.match(early.body.checks.jwks, /^not ready/);
    assert.match(early.body.checks.revocation_feed, /^not ready/);
    assert.equal(early.body.checks.policy, 'ok');
    assert.deepEqual((await get(`${lonely.url}/healthz`)).body, { status: 'ok' });
  } finally {
    await lonely.close();
  }

  const store = await sqlite.open();
  const srv = await startServer({ policy: parsePolicy(text), dbUrl: store.url, store, env: { JITGATE_KEK: randomBytes(32).toString('base64') } });
  let monotonic = 0;
  const gw = await startTestGateway(srv.url, text, { monotonicMs: () => monotonic, feedMaxAgeMs: 5000 });
  try {
    await gw.ready;
    // The keys are fetched at start, not on the first token.
    let ready = await get(`${gw.url}/readyz`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await get(`${gw.url}/readyz`);
    }
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.deepEqual(ready.body, { status: 'ready', checks: { jwks: 'ok', revocation_feed: 'ok', policy: 'ok' } });

    await srv.close();
    monotonic += 5001;
    const stale = await get(`${gw.url}/readyz`);
    assert.equal(stale.status, 503);
    assert.match(stale.body.detail, /revocation_feed \(last heard from 5001 ms ago, more than 5000 ms\)/);
    assert.equal(stale.body.checks.jwks, 'ok');
  } finally {
    await gw.close();
    await srv.close();
    await store.close();
    await upstream.close();
  }
});
