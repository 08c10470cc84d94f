import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, type TestServer } from './helpers/server.js';
import {
  BILLING,
  DEPLOY,
  GATEWAY_ENV,
  GATEWAY_SECRETS,
  api,
  call,
  clientToken,
  elevatedToken,
  gatewayPolicyText,
  rawHttp,
  startTestGateway,
  startUpstream,
  until,
  type Upstream,
} from './helpers/gateway.js';
import type { RunningGateway } from '../src/gateway/gateway.js';
import { FrozenClock } from '../src/util/clock.js';

// A Tuesday, 10:00 in Berlin.
const START_MS = Date.parse('2026-11-24T09:00:00Z');
const REPORTER = basic('reporter', GATEWAY_SECRETS.reporter);

forEachDatabase('gateway enforces tokens end to end', (open) => {
  const clock = new FrozenClock(START_MS);
  let billing: Upstream;
  let deploy: Upstream;
  let policyText: string;
  let srv: TestServer;
  let gw: RunningGateway;
  const latencies: Record<string, number> = {};

  before(async () => {
    billing = await startUpstream();
    deploy = await startUpstream();
    policyText = gatewayPolicyText({ billing: billing.url, deploy: deploy.url });
    srv = await startTestServer({ open, clock, policyText });
    gw = await startTestGateway(srv.url, policyText, { clock });
    await gw.ready;
  });
  after(async () => {
    await gw?.close();
    await srv?.close();
    await billing?.close();
    await deploy?.close();
    if (Object.keys(latencies).length) console.log(`revocation → refusal at the gateway, ms: ${JSON.stringify(latencies)}`);
  });

  const billingToken = () => clientToken(srv.url, 'reporter', { resource: BILLING });
  const seenSince = (n: number) => billing.seen.slice(n);

  test('an allowed request reaches the upstream with its credentials instead of the caller’s token', async () => {
    const token = await billingToken();
    const before = billing.seen.length;
    const res = await call(gw.url, {
      path: '/invoices/2024/07?page=2&q=a%20b',
      token,
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-request-id': 'forged', 'x-tenant': 'chosen-by-caller', accept: 'application/json' },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { method: 'GET', url: '/invoices/2024/07?page=2&q=a%20b', bytes: 0 });
    const [seen] = seenSince(before);
    assert.ok(seen);
    assert.equal(seen.headers.authorization, `Bearer ${GATEWAY_ENV.BILLING_API_KEY}`);
    assert.equal(seen.headers['x-tenant'], 'acme-eu');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'billing.internal');
    assert.equal(seen.headers.accept, 'application/json');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(res.headers['x-request-id'], seen.headers['x-request-id']);
    assert.ok(!JSON.stringify(seen.headers).includes(token), 'the caller’s token never reaches the upstream');
    assert.ok(!res.text.includes(GATEWAY_ENV.BILLING_API_KEY), 'the upstream credential never reaches the caller');
    assert.equal(res.headers['x-upstream'], 'yes');
    assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  });

  test('the upstream sees the normalized path that was authorized', async () => {
    const token = await billingToken();
    const before = billing.seen.length;
    const res = await call(gw.url, { path: '//invoices/./2024//%30%37/', token });
    assert.equal(res.status, 200, res.text);
    assert.equal(seenSince(before)[0]?.url, '/invoices/2024/07/');
  });

  test('hop-by-hop headers do not cross the gateway, either way', async () => {
    const token = await billingToken();
    const before = billing.seen.length;
    const answer = await rawHttp(
      gw.url,
      `GET /invoices/1 HTTP/1.1\r\nHost: billing.internal\r\nAuthorization: Bearer ${token}\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\nTE: trailers\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const seen = seenSince(before)[0]!;
    for (const h of ['x-hop', 'te', 'proxy-authorization']) assert.equal(seen.headers[h], undefined, `${h} stays with the gateway`);
    // The upstream sent `keep-alive: timeout=77` for its own connection.
    assert.doesNotMatch(answer, /timeout=77/);
  });

  test('no token: 401 with a bare challenge; a malformed one: invalid_token', async () => {
    const before = billing.seen.length;
    const none = await call(gw.url, { path: '/invoices/1' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="jitgate"');
    assert.match(String(none.headers['content-type']), /^application\/problem\+json/);
    const bad = await call(gw.url, { path: '/invoices/1', token: 'not.a.jwt' });
    assert.equal(bad.status, 401);
    assert.match(String(bad.headers['www-authenticate']), /^Bearer realm="jitgate", error="invalid_token"/);
    assert.equal(bad.json.code, 'invalid_token');
    const forged = (await billingToken()).replace(/.{6}$/, 'AAAAAA');
    assert.equal((await call(gw.url, { path: '/invoices/1', token: forged })).status, 401);
    assert.equal(billing.seen.length, before);
  });

  test('a missing scope: 403 insufficient_scope saying how to request it, and following that works', async () => {
    const token = await billingToken();
    const before = billing.seen.length;
    const res = await call(gw.url, { method: 'POST', path: '/admin/reruns', token, body: '{}' });
    assert.equal(res.status, 403, res.text);
    const challenge = String(res.headers['www-authenticate']);
    assert.match(challenge, /^Bearer realm="jitgate", error="insufficient_scope", scope="admin:billing"/);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = res.json;
    assert.equal(body.type, 'urn:jitgate:problem:insufficient_scope');
    assert.equal(body.code, 'insufficient_scope');
    assert.equal(body.status, 403);
    assert.equal(body.resource, BILLING);
    assert.deepEqual(body.required_scopes, ['admin:billing']);
    assert.deepEqual(body.missing_scopes, ['admin:billing']);
    assert.equal(body.request.method, 'POST');
    assert.equal(body.request.url, `${srv.ctx.config.issuer}/api/v1/requests`);
    assert.deepEqual(body.request.body.scopes, ['admin:billing']);
    assert.equal(body.request.body.resource, BILLING);
    assert.equal(body.request.body.ticket, '…', 'the scope needs a ticket');
    assert.match(body.command, /^jitgate request admin:billing --resource https:\/\/billing\.internal --for 30m --reason .* --ticket/);
    assert.match(body.then.command, /^jitgate token --scope admin:billing --resource https:\/\/billing\.internal$/);
    assert.equal(billing.seen.length, before, 'nothing reached the upstream');

    // The hinted request, filled in, is what elevatedToken sends; its token passes.
    const { token: elevated } = await elevatedToken(srv.url);
    const ok = await call(gw.url, { method: 'POST', path: '/admin/reruns', token: elevated, body: '{"run":1}' });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { method: 'POST', url: '/admin/reruns', bytes: 9 });
  });

  test('a token for another audience is invalid here, and valid where it belongs (routing by Host)', async () => {
    const deployToken = await clientToken(srv.url, 'reporter', { resource: DEPLOY });
    const wrong = await call(gw.url, { path: '/invoices/1', token: deployToken });
    assert.equal(wrong.status, 401);
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    assert.match(wrong.json.detail, /is for https:\/\/deploy\.internal/);
    const right = await call(gw.url, { path: '/deployments/42', host: 'deploy.internal', token: deployToken });
    assert.equal(right.status, 200, right.text);
    assert.equal(deploy.seen.at(-1)?.url, '/deployments/42');
    assert.equal(deploy.seen.at(-1)?.headers.authorization, undefined, 'deploy injects nothing, and the caller’s token is gone');
    const ownApi = await clientToken(srv.url, 'reporter');
    assert.equal((await call(gw.url, { path: '/invoices/1', token: ownApi })).status, 401, 'a token for jitgate’s own API');
  });

  test('unknown hosts, paths and methods are refused', async () => {
    const token = await billingToken();
    const before = billing.seen.length + deploy.seen.length;
    const host = await call(gw.url, { path: '/invoices/1', host: 'elsewhere.internal', token });
    assert.equal(host.status, 404);
    assert.equal(host.json.code, 'resource_unknown');
    const path = await call(gw.url, { path: '/secrets', token });
    assert.equal(path.status, 404);
    assert.equal(path.json.code, 'route_not_found');
    const method = await call(gw.url, { method: 'DELETE', path: '/invoices/1', token });
    assert.equal(method.status, 405);
    assert.equal(method.headers.allow, 'GET, HEAD');
    assert.equal(billing.seen.length + deploy.seen.length, before);
  });

  test('traversal is resolved before the route check or refused', async () => {
    const token = await billingToken();
    const before = billing.seen.length;
    for (const path of ['/invoices/../admin/users', '/invoices/%2e%2e/admin/users', '/invoices/%2E%2E/%2e%2E/admin/users', '/%69nvoices/../admin/users']) {
      const res = await call(gw.url, { path, token });
      assert.equal(res.status, 403, `${path}: ${res.text}`);
      assert.equal(res.json.code, 'insufficient_scope', path);
      assert.match(res.json.detail, /^GET \/admin\/users needs admin:billing/);
    }
    for (const path of ['/invoices/..%2Fadmin/users', '/invoices%2f..%2fadmin', '/invoices/..%5cadmin', '/invoices/..;/admin/users', '/invoices/%0d%0aX-Injected:%201']) {
      const res = await call(gw.url, { path, token });
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(res.json.code, 'path_invalid', path);
    }
    const backslash = await rawHttp(gw.url, `GET /invoices/..\\admin/users HTTP/1.1\r\nHost: billing.internal\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    assert.match(backslash, /^HTTP\/1\.1 400 /);
    assert.equal(billing.seen.length, before, 'nothing reached the upstream');

    // With the scope, the resolved path is what the upstream gets.
    const { token: elevated } = await elevatedToken(srv.url);
    const res = await call(gw.url, { path: '/invoices/../admin/users', token: elevated });
    assert.equal(res.status, 200, res.text);
    assert.equal(billing.seen.at(-1)?.url, '/admin/users');
  });

  test('line breaks smuggled into headers are refused before anything is forwarded', async () => {
    const token = await billingToken();
    const before = billing.seen.length;
    const attempts = [
      `GET /invoices/1 HTTP/1.1\r\nHost: billing.internal\r\nAuthorization: Bearer ${token}\r\nX-Note: a\rX-Injected: 1\r\nConnection: close\r\n\r\n`,
      `GET /invoices/1 HTTP/1.1\r\nHost: billing.internal\r\nAuthorization: Bearer ${token}\r\nX-Note: a\nX-Injected: 1\r\nConnection: close\r\n\r\n`,
      `GET /invoices/1 HTTP/1.1\r\nHost: billing.internal\r\nAuthorization: Bearer ${token}\r\nX-Note: a\r\n X-Injected: 1\r\nConnection: close\r\n\r\n`,
      `GET /invoices/1 HTTP/1.1\r\nHost: billing.internal\r\nAuthorization: Bearer ${token}\r\nX-Note: a\u0000b\r\nConnection: close\r\n\r\n`,
      `GET /invoices/1 HTTP/1.1\r\nHost: billing.internal evil\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    ];
    for (const bytes of attempts) {
      const answer = await rawHttp(gw.url, bytes);
      assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(bytes));
      assert.match(answer, /application\/problem\+json/, JSON.stringify(bytes));
    }
    assert.equal(billing.seen.length, before, 'nothing reached the upstream');
  });

  test('an expired token is refused on the gateway’s clock', async () => {
    const token = await billingToken();
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200);
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    clock.set((exp - 1) * 1000);
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200, 'a second before exp');
    clock.set(exp * 1000);
    const res = await call(gw.url, { path: '/invoices/1', token });
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    assert.match(res.json.detail, /expired/);
  });

  test('a revoked token is refused at once', async () => {
    const token = await billingToken();
    const other = await billingToken();
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200);
    const revoked = await postForm(`${srv.url}/revoke`, { token }, { authorization: REPORTER });
    assert.equal(revoked.status, 200);
    const { answer, ms } = await until(() => call(gw.url, { path: '/invoices/1', token }), (a) => a.status !== 200);
    latencies.token = Math.round(ms);
    assert.equal(answer.status, 401);
    assert.match(String(answer.headers['www-authenticate']), /error="invalid_token"/);
    assert.match(answer.json.detail, /revoked/);
    assert.equal((await call(gw.url, { path: '/invoices/1', token: other })).status, 200, 'other tokens are untouched');
  });

  test('tokens of a revoked grant are refused at once', async () => {
    const { token, grantId } = await elevatedToken(srv.url);
    assert.equal((await call(gw.url, { path: '/admin/users', token })).status, 200);
    const admin = await clientToken(srv.url, 'admin-bot');
    const res = await api(srv.url, admin, 'POST', `/grants/${grantId}/revoke`, { reason: 'the rerun is done' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { answer, ms } = await until(() => call(gw.url, { path: '/admin/users', token }), (a) => a.status !== 200);
    latencies.grant_revoked = Math.round(ms);
    assert.equal(answer.status, 401);
    assert.match(answer.json.detail, /grant/);
  });

  test('tokens of a released grant are refused at once', async () => {
    const { token, grantId } = await elevatedToken(srv.url);
    assert.equal((await call(gw.url, { path: '/admin/users', token })).status, 200);
    const own = await clientToken(srv.url, 'reporter');
    const res = await api(srv.url, own, 'POST', `/grants/${grantId}/release`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { answer, ms } = await until(() => call(gw.url, { path: '/admin/users', token }), (a) => a.status !== 200);
    latencies.grant_released = Math.round(ms);
    assert.equal(answer.status, 401);
    assert.match(answer.json.detail, /grant/);
  });

  test('a policy reload that withdraws a scope ends the tokens carrying it', async () => {
    const both = await billingToken();
    const logsOnly = await clientToken(srv.url, 'reporter', { resource: BILLING, scope: 'read:logs' });
    assert.equal((await call(gw.url, { path: '/invoices/1', token: both })).status, 200);
    const narrowed = policyText.replace('baseline: [read:billing, read:logs]', 'baseline: [read:logs]');
    await srv.rewritePolicy(narrowed);
    try {
      const { answer, ms } = await until(() => call(gw.url, { path: '/invoices/1', token: both }), (a) => a.status !== 200);
      latencies.scope_withdrawn = Math.round(ms);
      assert.equal(answer.status, 401, answer.text);
      assert.match(answer.json.detail, /no longer gives/);
      assert.equal((await call(gw.url, { path: '/status', token: both })).status, 401, 'the whole token is inactive, as at introspection');
      assert.equal((await call(gw.url, { path: '/status', token: logsOnly })).status, 200, 'a token without the scope is untouched');
      const rows = await srv.ctx.store.db.selectFrom('audit_events').select(['subject', 'data']).where('type', '=', 'scope.withdrawn').execute();
      const data = rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data));
      assert.ok(data.some((d) => d.principal === 'client:reporter' && d.scopes.join() === 'read:billing'), JSON.stringify(data));
    } finally {
      await srv.rewritePolicy(policyText);
    }
    // Tokens issued after the withdrawal carry the scope legitimately again.
    clock.advance(1);
    const fresh = await billingToken();
    assert.equal((await call(gw.url, { path: '/invoices/1', token: fresh })).status, 200);
  });

  test('an upstream that is down gets 502 problem+json', async () => {
    const token = await clientToken(srv.url, 'reporter', { resource: DEPLOY });
    const port = Number(new URL(deploy.url).port);
    await deploy.close();
    const res = await call(gw.url, { path: '/deployments/1', host: 'deploy.internal', token });
    assert.equal(res.status, 502, res.text);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json.code, 'upstream_unreachable');
    // Back up on the same port: the gateway forwards again.
    const again = createServer((_req, r) => r.end('back')).listen(port, '127.0.0.1');
    await new Promise((r) => again.once('listening', r));
    try {
      const ok = await call(gw.url, { path: '/deployments/1', host: 'deploy.internal', token });
      assert.equal(ok.status, 200);
      assert.equal(ok.text, 'back');
    } finally {
      again.closeAllConnections();
      await new Promise((r) => again.close(r));
    }
  });
});
