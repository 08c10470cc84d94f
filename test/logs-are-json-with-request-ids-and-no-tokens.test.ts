import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { databases } from './helpers/databases.js';
import { BILLING, GATEWAY_SECRETS, call, clientToken, gatewayPolicyText, parsePolicy, startTestGateway, startUpstream, type Upstream } from './helpers/gateway.js';
import { basic, postForm } from './helpers/server.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import type { RunningGateway } from '../src/gateway/gateway.js';
import type { Store } from '../src/store/open.js';
import { createLogger, resolveLogLevel } from '../src/metrics/logging.js';

/** A pino destination that keeps every line, parsed. */
function captured(): { stream: Writable; lines: Record<string, any>[]; raw: string[] } {
  const raw: string[] = [];
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { stream, lines, raw };
}

const sqlite = databases.find((d) => d.dialect === 'sqlite')!;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let upstream: Upstream;
let store: Store;
let srv: RunningServer;
let gw: RunningGateway;
const serverLog = captured();
const gatewayLog = captured();

before(async () => {
  upstream = await startUpstream();
  const text = gatewayPolicyText({ billing: upstream.url });
  store = await sqlite.open();
  srv = await startServer({
    policy: parsePolicy(text),
    dbUrl: store.url,
    store,
    env: { JITGATE_KEK: randomBytes(32).toString('base64') },
    log: createLogger('info', serverLog.stream),
    accessLog: true,
  });
  gw = await startTestGateway(srv.url, text, { log: createLogger('info', gatewayLog.stream) });
  await gw.ready;
});
after(async () => {
  await gw?.close();
  await srv?.close();
  await store?.close();
  await upstream?.close();
});

test('a gateway refusal is one JSON line at info with request id, resource, route, principal and reason, never the token', async () => {
  const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
  const refused = await call(gw.url, { path: '/admin/runs?token=no', token });
  assert.equal(refused.status, 403);
  const reqId = String(refused.headers['x-request-id']);
  const line = gatewayLog.lines.find((l) => l.reqId === reqId);
  assert.ok(line, `a log line with reqId ${reqId}`);
  assert.equal(line.level, 30, 'info');
  assert.equal(line.msg, 'gateway refused a request');
  assert.equal(line.resource, BILLING);
  assert.equal(line.route, '/admin/**');
  assert.equal(line.path, '/admin/runs');
  assert.equal(line.principal, 'client:reporter');
  assert.equal(line.status, 403);
  assert.equal(line.code, 'insufficient_scope');
  assert.match(line.reason, /admin:billing/);

  const forged = `${token.slice(0, -4)}AAAA`;
  const bad = await call(gw.url, { path: '/invoices/1', token: forged });
  assert.equal(bad.status, 401);
  const badLine = gatewayLog.lines.find((l) => l.reqId === bad.headers['x-request-id']);
  assert.equal(badLine?.code, 'invalid_token');
  assert.equal(badLine?.principal, null, 'an unverified token names nobody');

  const all = gatewayLog.raw.join('\n');
  assert.ok(!all.includes(token) && !all.includes(forged) && !all.includes(token.split('.')[2]!), 'no token, nor its signature, in the log');
  assert.ok(!all.includes(GATEWAY_SECRETS['jitgate-gateway']));
});

test('forwarded requests are not logged unless asked', async () => {
  const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
  const ok = await call(gw.url, { path: '/invoices/1', token });
  assert.equal(ok.status, 200);
  assert.equal(gatewayLog.lines.find((l) => l.reqId === ok.headers['x-request-id']), undefined);
});

test('the server takes a sane X-Request-Id for its log lines, and makes one up for anything else', async () => {
  const auth = { authorization: basic('reporter', GATEWAY_SECRETS.reporter) };
  await postForm(`${srv.url}/token`, { grant_type: 'client_credentials' }, { ...auth, 'x-request-id': 'trace-4f2a.9' });
  const mine = serverLog.lines.find((l) => l.reqId === 'trace-4f2a.9');
  assert.ok(mine, 'the access log line carries the caller’s request id');
  assert.equal(mine.msg, 'request');
  assert.equal(mine.route, '/token');
  assert.equal(mine.status, 200);

  const n = serverLog.lines.length;
  await postForm(`${srv.url}/token`, { grant_type: 'client_credentials' }, { ...auth, 'x-request-id': 'has spaces "and quotes"' });
  const made = serverLog.lines.slice(n).find((l) => l.msg === 'request' && l.route === '/token');
  assert.match(String(made?.reqId), UUID);
  const all = serverLog.raw.join('\n');
  assert.ok(!all.includes(GATEWAY_SECRETS.reporter), 'no client secret in the log');
  assert.ok(!all.includes('has spaces'));
});

test('log levels come from the flag, then JITGATE_LOG_LEVEL, else info; anything else is refused', () => {
  assert.equal(resolveLogLevel(undefined, {}), 'info');
  assert.equal(resolveLogLevel(undefined, { JITGATE_LOG_LEVEL: 'debug' }), 'debug');
  assert.equal(resolveLogLevel('warn', { JITGATE_LOG_LEVEL: 'debug' }), 'warn');
  assert.throws(() => resolveLogLevel('loud', {}), (e: any) => e.code === 'log_level_invalid');
});
