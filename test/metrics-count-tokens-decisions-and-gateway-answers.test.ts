import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { forEachDatabase, databases } from './helpers/databases.js';
import { startTestServer, postForm, type TestServer } from './helpers/server.js';
import { BILLING, DEPLOY, GATEWAY_SECRETS, api, call, clientToken, gatewayPolicyText, parsePolicy, startTestGateway, startUpstream, type Upstream } from './helpers/gateway.js';
import { scrape } from './helpers/metrics.js';
import { basic } from './helpers/server.js';
import { startServer } from '../src/http/server.js';
import type { RunningGateway } from '../src/gateway/gateway.js';
import { FrozenClock } from '../src/util/clock.js';

// A Tuesday, 10:00 in Berlin.
const START_MS = Date.parse('2026-11-24T09:00:00Z');
const REPORTER = basic('reporter', GATEWAY_SECRETS.reporter);

forEachDatabase('metrics count tokens, decisions and gateway answers', (open) => {
  const clock = new FrozenClock(START_MS);
  let billing: Upstream;
  let srv: TestServer;
  let gw: RunningGateway;

  before(async () => {
    billing = await startUpstream();
    const policyText = gatewayPolicyText({ billing: billing.url });
    srv = await startTestServer({ open, clock, policyText });
    gw = await startTestGateway(srv.url, policyText, { clock });
    await gw.ready;
  });
  after(async () => {
    await gw?.close();
    await srv?.close();
    await billing?.close();
  });

  test('the server counts tokens, refusals, introspections, decisions and requests by route', async () => {
    const before = await scrape(srv.url);
    const issuedBefore = before.value('jitgate_tokens_issued_total', { grant_type: 'client_credentials' }) ?? 0;

    const tokens = [await clientToken(srv.url, 'reporter', { resource: BILLING }), await clientToken(srv.url, 'reporter', { resource: BILLING })];
    const wrong = await postForm(`${srv.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('reporter', 'not-the-secret-0123456789abcdef0123456') });
    assert.equal(wrong.status, 401);
    const unsupported = await postForm(`${srv.url}/token`, { grant_type: 'password' }, { authorization: REPORTER });
    assert.equal(unsupported.body.error, 'unsupported_grant_type');

    assert.equal((await postForm(`${srv.url}/introspect`, { token: tokens[0]! }, { authorization: REPORTER })).body.active, true);
    assert.equal((await postForm(`${srv.url}/introspect`, { token: 'not-a-token' }, { authorization: REPORTER })).body.active, false);

    const own = await clientToken(srv.url, 'reporter');
    const approved = await api(srv.url, own, 'POST', '/requests', { scopes: ['admin:billing'], resource: BILLING, duration: '20m', reason: 'rerun the invoices', ticket: 'INC-1' });
    assert.equal(approved.body.status, 'approved');
    const denied = await api(srv.url, own, 'POST', '/requests', { scopes: ['deploy:prod'], duration: '20m', reason: 'ship the release to production' });
    assert.equal(denied.body.status, 'denied', JSON.stringify(denied.body));

    const m = await scrape(srv.url);
    assert.equal(m.status, 200);
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(m.value('jitgate_tokens_issued_total', { grant_type: 'client_credentials' }), issuedBefore + 3);
    assert.equal(m.value('jitgate_token_errors_total', { error: 'invalid_client' }), 1);
    assert.equal(m.value('jitgate_token_errors_total', { error: 'unsupported_grant_type' }), 1);
    assert.equal(m.value('jitgate_introspections_total', { active: 'true' }), 1);
    assert.equal(m.value('jitgate_introspections_total', { active: 'false' }), 1);
    assert.equal(m.value('jitgate_access_decisions_total', { outcome: 'approve' }), 1);
    assert.equal(m.value('jitgate_access_decisions_total', { outcome: 'deny' }), 1);
    assert.equal(m.value('jitgate_grants_opened_total'), 1);
    assert.ok((m.value('jitgate_audit_events_total', { type: 'grant.created' }) ?? 0) >= 1);
    assert.equal(m.value('jitgate_revocation_feed_subscribers'), 1, 'the gateway reads the feed');
    // Requests by route pattern, never by raw URL.
    assert.equal(m.value('jitgate_http_requests_total', { route: '/introspect', method: 'POST', status: '2xx' }), 2);
    assert.equal(m.value('jitgate_http_requests_total', { route: '/token', method: 'POST', status: '4xx' }), 2);
    assert.equal(m.value('jitgate_http_request_duration_seconds_count', { route: '/introspect', method: 'POST' }), 2);
    assert.equal(m.value('jitgate_http_request_duration_seconds_bucket', { route: '/introspect', method: 'POST', le: '+Inf' }), 2);
    await request(`${srv.url}/api/v1/requests/req_nothing_here`, { headers: { authorization: `Bearer ${own}` } }).then((r) => r.body.dump());
    await request(`${srv.url}/no/such/path`).then((r) => r.body.dump());
    const after = await scrape(srv.url);
    assert.equal(after.value('jitgate_http_requests_total', { route: '/api/v1/requests/:id', method: 'GET', status: '4xx' }), 1);
    assert.equal(after.value('jitgate_http_requests_total', { route: 'unmatched', method: 'any', status: '4xx' }), 1);
    assert.doesNotMatch(after.text, /req_nothing_here|no\/such\/path/);
    assert.ok((after.value('process_resident_memory_bytes') ?? 0) > 0, 'process metrics are there too');
  });

  test('the gateway counts forwards and refusals by resource, cache hits and its feed', async () => {
    const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200);
    assert.equal((await call(gw.url, { path: '/invoices/2', token })).status, 200);
    assert.equal((await call(gw.url, { path: '/admin/runs', token })).status, 403);
    assert.equal((await call(gw.url, { path: '/invoices/1' })).status, 401);
    // The deploy resource's upstream is a port nothing listens on.
    const deployToken = await clientToken(srv.url, 'reporter', { resource: DEPLOY });
    const down = await call(gw.url, { host: 'deploy.internal', path: '/deployments/1', token: deployToken });
    assert.equal(down.status, 502, down.text);

    const m = await scrape(gw.url);
    assert.equal(m.status, 200);
    assert.equal(m.value('jitgate_gateway_requests_total', { resource: BILLING, outcome: 'forwarded' }), 2);
    assert.equal(m.value('jitgate_gateway_requests_total', { resource: BILLING, outcome: 'insufficient_scope' }), 1);
    assert.equal(m.value('jitgate_gateway_requests_total', { resource: BILLING, outcome: 'unauthorized' }), 1);
    assert.equal(m.value('jitgate_gateway_request_duration_seconds_count', { resource: BILLING }), 4);
    assert.equal(m.value('jitgate_gateway_upstream_duration_seconds_count', { resource: BILLING }), 2);
    assert.equal(m.value('jitgate_gateway_requests_total', { resource: DEPLOY, outcome: 'upstream_unreachable' }), 1);
    assert.equal(m.value('jitgate_gateway_upstream_duration_seconds_count', { resource: DEPLOY }), 1);
    // One signature check, then the cache.
    assert.equal(m.value('jitgate_gateway_token_cache_total', { result: 'miss' }), 2);
    assert.equal(m.value('jitgate_gateway_token_cache_total', { result: 'hit' }), 2);
    assert.equal(m.value('jitgate_gateway_jwks_fetches_total'), 1);
    assert.equal(m.value('jitgate_gateway_revocation_feed_connected'), 1);
    const lag = m.value('jitgate_gateway_revocation_feed_lag_seconds');
    assert.ok(lag !== undefined && lag >= 0 && lag < 5, `feed lag ${lag}`);
    assert.ok((m.value('process_resident_memory_bytes') ?? 0) > 0);
  });

  test('metrics answer loopback callers only, and not through a proxy', async () => {
    for (const url of [srv.url, gw.url]) {
      const proxied = await scrape(url, { 'x-forwarded-for': '203.0.113.9' });
      assert.equal(proxied.status, 403, url);
      assert.equal(JSON.parse(proxied.text).code, 'forbidden');
    }
  });
});

const sqlite = databases.find((d) => d.dialect === 'sqlite')!;

test('with a metrics token, /metrics needs it from every caller, on the server and the gateway', async () => {
  const secret = randomBytes(24).toString('base64url');
  const upstream = await startUpstream();
  const text = gatewayPolicyText({ billing: upstream.url });
  const store = await sqlite.open();
  const env = { JITGATE_KEK: randomBytes(32).toString('base64') };
  const srv = await startServer({ policy: parsePolicy(text), dbUrl: store.url, store, env, metricsToken: secret });
  const gw = await startTestGateway(srv.url, text, { metricsToken: secret });
  try {
    for (const url of [srv.url, gw.url]) {
      const none = await scrape(url);
      assert.equal(none.status, 401, url);
      assert.equal(JSON.parse(none.text).code, 'unauthorized');
      assert.equal((await scrape(url, { authorization: `Bearer ${secret}x` })).status, 401);
      const ok = await scrape(url, { authorization: `Bearer ${secret}`, 'x-forwarded-for': '203.0.113.9' });
      assert.equal(ok.status, 200, url);
      assert.match(ok.text, /^# HELP /m);
    }
    await assert.rejects(
      startServer({ policy: parsePolicy(text), dbUrl: store.url, store, env, metricsToken: 'short' }),
      (e: any) => e.code === 'metrics_token_weak',
    );
  } finally {
    await gw.close();
    await srv.close();
    await store.close();
    await upstream.close();
  }
});
