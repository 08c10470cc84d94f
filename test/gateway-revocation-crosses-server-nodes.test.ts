import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { forEachDatabase } from './helpers/databases.js';
import { postForm, basic } from './helpers/server.js';
import { BILLING, GATEWAY_SECRETS, api, call, clientToken, elevatedToken, gatewayPolicyText, parsePolicy, startTestGateway, startUpstream, until, type Upstream } from './helpers/gateway.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import type { RunningGateway } from '../src/gateway/gateway.js';
import type { Store } from '../src/store/open.js';

/** Both nodes sit behind one public issuer, as behind a load balancer. */
const ISSUER = 'http://jitgate.test';

forEachDatabase('a revocation through one server node reaches a gateway fed by another', (open, dialect) => {
  if (dialect !== 'postgres') {
    test('server nodes on one database', { skip: 'SQLite has no LISTEN/NOTIFY: nodes sharing one file learn of each other’s revocations at their next poll' }, () => {});
    return;
  }
  let upstream: Upstream;
  let storeA: Store;
  let storeB: Store;
  let nodeA: RunningServer;
  let nodeB: RunningServer;
  let gw: RunningGateway;
  const latencies: number[] = [];

  before(async () => {
    upstream = await startUpstream();
    const text = gatewayPolicyText({ billing: upstream.url });
    const env = { JITGATE_KEK: randomBytes(32).toString('base64') };
    storeA = await open();
    storeB = await open({ sameDatabaseAs: storeA });
    nodeA = await startServer({ policy: parsePolicy(text), dbUrl: storeA.url, store: storeA, issuer: ISSUER, env });
    nodeB = await startServer({ policy: parsePolicy(text), dbUrl: storeB.url, store: storeB, issuer: ISSUER, env });
    gw = await startTestGateway(nodeB.url, text);
    await gw.ready;
  });
  after(async () => {
    await gw?.close();
    await nodeA?.close();
    await nodeB?.close();
    await upstream?.close();
    if (latencies.length) console.log(`revocation through node A → refusal at a gateway fed by node B, ms: ${latencies.join(', ')}`);
  });

  const refusedWithin = async (token: string, path: string) => {
    const { answer, ms } = await until(() => call(gw.url, { path, token }), (a) => a.status !== 200, 2000);
    latencies.push(Math.round(ms));
    assert.equal(answer.status, 401, answer.text);
    assert.match(String(answer.headers['www-authenticate']), /error="invalid_token"/);
    // Well under a second; node B's own poll (every 5 s) could not explain three such answers.
    assert.ok(ms < 1000, `refused after ${ms} ms`);
  };

  test('a token revoked through node A', async () => {
    const token = await clientToken(nodeA.url, 'reporter', { resource: BILLING });
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200);
    const res = await postForm(`${nodeA.url}/revoke`, { token }, { authorization: basic('reporter', GATEWAY_SECRETS.reporter) });
    assert.equal(res.status, 200);
    await refusedWithin(token, '/invoices/1');
  });

  test('a grant revoked through node A', async () => {
    const { token, grantId } = await elevatedToken(nodeA.url);
    assert.equal((await call(gw.url, { path: '/admin/users', token })).status, 200);
    const admin = await clientToken(nodeA.url, 'admin-bot');
    assert.equal((await api(nodeA.url, admin, 'POST', `/grants/${grantId}/revoke`, { reason: 'incident closed' })).status, 200);
    await refusedWithin(token, '/admin/users');
  });

  test('a grant released through node A', async () => {
    const { token, grantId } = await elevatedToken(nodeA.url);
    assert.equal((await call(gw.url, { path: '/admin/users', token })).status, 200);
    const own = await clientToken(nodeA.url, 'reporter');
    assert.equal((await api(nodeA.url, own, 'POST', `/grants/${grantId}/release`, {})).status, 200);
    await refusedWithin(token, '/admin/users');
  });
});
