import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { databases } from './helpers/databases.js';
import { BILLING, call, clientToken, gatewayPolicyText, parsePolicy, startTestGateway, startUpstream, until, type Upstream } from './helpers/gateway.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import type { RunningGateway } from '../src/gateway/gateway.js';
import type { Store } from '../src/store/open.js';

// The server's store does not matter here: the feed's transport does.
const sqlite = databases.find((d) => d.dialect === 'sqlite')!;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('a gateway that cannot reach its server refuses every request', async () => {
  const upstream = await startUpstream();
  const gw = await startTestGateway(`http://127.0.0.1:${await closedPort()}`, gatewayPolicyText({ billing: upstream.url }));
  try {
    const res = await call(gw.url, { path: '/invoices/1', token: 'anything' });
    assert.equal(res.status, 503);
    assert.equal(res.json.code, 'revocation_feed_stale');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(upstream.seen.length, 0);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

test('a gateway whose injected credential is missing does not start', async () => {
  await assert.rejects(
    startTestGateway('http://127.0.0.1:1', gatewayPolicyText({ billing: 'http://127.0.0.1:2' }), { env: { BILLING_TENANT: 'eu' } }),
    (e: any) => e.code === 'gateway_env_missing' && /BILLING_API_KEY/.test(e.message),
  );
});

test('a feed silent longer than the bound: 503 until it is back', async () => {
  const upstream: Upstream = await startUpstream();
  const text = gatewayPolicyText({ billing: upstream.url });
  const env = { JITGATE_KEK: randomBytes(32).toString('base64') };
  const store: Store = await sqlite.open();
  const start = (port = 0) => startServer({ policy: parsePolicy(text), dbUrl: store.url, store, env, port });
  let srv: RunningServer = await start();
  const port = Number(new URL(srv.url).port);
  // Freshness is read on a clock the test moves, so the bound is crossed exactly.
  let monotonic = 0;
  const gw: RunningGateway = await startTestGateway(srv.url, text, { monotonicMs: () => monotonic, feedMaxAgeMs: 5000 });
  try {
    await gw.ready;
    const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200);

    await srv.close();
    monotonic += 5000;
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200, 'at the bound: still serving');
    const seen = upstream.seen.length;
    monotonic += 1;
    const res = await call(gw.url, { path: '/invoices/1', token });
    assert.equal(res.status, 503, res.text);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json.code, 'revocation_feed_stale');
    assert.match(res.json.detail, /5001 ms ago/);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(upstream.seen.length, seen, 'nothing was forwarded');

    // The server comes back on the same address: the gateway resumes and serves again.
    srv = await start(port);
    const { answer } = await until(() => call(gw.url, { path: '/invoices/1', token }), (a) => a.status === 200, 10_000);
    assert.equal(answer.status, 200, answer.text);
  } finally {
    await gw.close();
    await srv.close();
    await store.close();
    await upstream.close();
  }
});

