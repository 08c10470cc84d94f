import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, type TestServer } from './helpers/server.js';
import { cliPerson, type CliPerson } from './helpers/cli.js';
import {
  BILLING,
  DEPLOY,
  GATEWAY_SECRETS,
  api,
  call,
  clientToken,
  elevatedToken,
  gatewayPolicyText,
  startTestGateway,
  startUpstream,
  until,
  type Upstream,
} from './helpers/gateway.js';
import type { RunningGateway } from '../src/gateway/gateway.js';
import { UsageRecorder } from '../src/gateway/usage-recorder.js';
import { ServiceToken } from '../src/gateway/service-token.js';
import { credentialsPath, readCredentials, withLogin, writeCredentials } from '../src/cli/client/credentials.js';
import { FrozenClock } from '../src/util/clock.js';

// Frozen at a real instant, so a login saved for the CLI (which checks expiry on the machine's clock) is current.
const START_MS = Math.floor(Date.now() / 1000) * 1000;
const REPORTER = basic('reporter', GATEWAY_SECRETS.reporter);

/** The gateway fixture with jitgate:audit for the operators' admin-bot. */
function usagePolicy(upstreams: { billing: string; deploy: string }): string {
  return gatewayPolicyText(upstreams)
    .replace('  jitgate:admin:   { risk: medium }', '  jitgate:admin:   { risk: medium }\n  jitgate:audit:   { risk: low }')
    .replace('baseline: [jitgate:admin] }', 'baseline: [jitgate:admin, jitgate:audit] }');
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

forEachDatabase('gateway records usage end to end', (open) => {
  const clock = new FrozenClock(START_MS);
  let billing: Upstream;
  let deploy: Upstream;
  let srv: TestServer;
  let gw: RunningGateway;
  let auditor: string;
  let cli: CliPerson;

  before(async () => {
    billing = await startUpstream();
    deploy = await startUpstream();
    const policyText = usagePolicy({ billing: billing.url, deploy: deploy.url });
    srv = await startTestServer({ open, clock, policyText });
    // A long interval: every report in these tests is asked for, never waited for.
    gw = await startTestGateway(srv.url, policyText, { clock, usageFlushMs: 3_600_000 });
    await gw.ready;
    auditor = await clientToken(srv.url, 'admin-bot');
    cli = cliPerson('auditor');
  });
  after(async () => {
    await gw?.close();
    await srv?.close();
    await billing?.close();
    await deploy?.close();
    cli?.cleanup();
  });

  const usage = async (query = '') => {
    const res = await api(srv.url, auditor, 'GET', `/usage${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as any[];
  };

  test('requests forwarded by the gateway show up in GET /usage after a report, counted per principal, scope and resource', async () => {
    const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
    for (let i = 0; i < 3; i++) assert.equal((await call(gw.url, { path: `/invoices/${i}`, token })).status, 200);
    // Refused requests are not usage.
    assert.equal((await call(gw.url, { method: 'POST', path: '/admin/reruns', token, body: '{}' })).status, 403);
    assert.equal((await call(gw.url, { path: '/secrets', token })).status, 404);
    const firstAt = clock.nowMs();

    assert.deepEqual(await usage(), [], 'nothing before the gateway reports');
    const flushed = await gw.flushUsage();
    assert.deepEqual(flushed, { sent: 1, ok: true });
    assert.deepEqual(await usage(), [
      { principal: 'client:reporter', scope: 'read:billing', resource: BILLING, count: 3, first_used_at: iso(firstAt), last_used_at: iso(firstAt) },
    ]);

    // Later uses add to the count and move last_used only; an elevated token counts for its route's scope.
    clock.advance(90);
    assert.equal((await call(gw.url, { path: '/invoices/9', token })).status, 200);
    const { token: elevated } = await elevatedToken(srv.url);
    assert.equal((await call(gw.url, { path: '/admin/users', token: elevated })).status, 200);
    assert.deepEqual(await gw.flushUsage(), { sent: 2, ok: true });
    assert.deepEqual(await gw.flushUsage(), { sent: 0, ok: true }, 'nothing new: nothing sent');
    const rows = await usage();
    assert.deepEqual(
      rows.map((r) => [r.scope, r.count, r.first_used_at, r.last_used_at]),
      [
        ['admin:billing', 1, iso(clock.nowMs()), iso(clock.nowMs())],
        ['read:billing', 4, iso(firstAt), iso(clock.nowMs())],
      ],
    );

    assert.deepEqual((await usage('?scope=admin:billing')).map((r) => r.count), [1]);
    assert.deepEqual(await usage(`?resource=${encodeURIComponent(DEPLOY)}`), []);
    assert.deepEqual(await usage('?principal=client:admin-bot'), []);
    assert.deepEqual((await usage(`?since=${encodeURIComponent(iso(clock.nowMs()))}`)).length, 2);
    assert.deepEqual(await usage(`?since=${encodeURIComponent(iso(clock.nowMs() + 1000))}`), []);
    assert.equal((await usage('?since=1m')).length, 2);
  });

  test('GET /usage/unused lists baseline and eligible scopes nobody used in the window, and not those that were used', async () => {
    // deploy:prod was last used forty days ago (as a gateway reported it then).
    const gatewayToken = await clientToken(srv.url, 'jitgate-gateway');
    const old = Math.floor(clock.nowMs() / 1000) - 40 * 86_400;
    const reported = await api(srv.url, gatewayToken, 'POST', '/usage', {
      usage: [{ principal: 'client:reporter', scope: 'deploy:prod', resource: DEPLOY, count: 2, first_used: old - 60, last_used: old }],
    });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));

    const unused = await api(srv.url, auditor, 'GET', '/usage/unused?for=30d&principal=client:reporter');
    assert.equal(unused.status, 200, JSON.stringify(unused.body));
    assert.equal(unused.body.since, iso(clock.nowMs() - 30 * 86_400_000));
    assert.deepEqual(
      unused.body.items.map((u: any) => [u.scope, u.kind, u.last_used_at, u.observed]),
      [
        // read:billing (baseline) and admin:billing (eligible) were used above.
        ['read:logs', 'baseline', null, true],
        ['deploy:prod', 'eligible', iso(old * 1000), true],
      ],
    );
    const wider = await api(srv.url, auditor, 'GET', '/usage/unused?for=60d&principal=client:reporter');
    assert.deepEqual(wider.body.items.map((u: any) => u.scope), ['read:logs'], 'used within sixty days');
    const one = await api(srv.url, auditor, 'GET', '/usage/unused?for=30d&scope=read:logs');
    assert.deepEqual(one.body.items.map((u: any) => [u.principal, u.scope]), [['client:reporter', 'read:logs']]);

    // Scopes only jitgate's own API takes are never seen by a gateway: listed, and marked so.
    const all = await api(srv.url, auditor, 'GET', '/usage/unused?for=30d');
    const gateway = all.body.items.find((u: any) => u.principal === 'client:jitgate-gateway');
    assert.deepEqual(gateway, { principal: 'client:jitgate-gateway', scope: 'jitgate:gateway', kind: 'baseline', last_used_at: null, observed: false });
    assert.deepEqual(
      all.body.items.filter((u: any) => u.principal === 'client:admin-bot').map((u: any) => u.scope),
      ['jitgate:admin', 'jitgate:audit'],
    );
  });

  test('jitgate usage prints the usage and, with --unused, what nobody used', async () => {
    const path = credentialsPath({ XDG_CONFIG_HOME: cli.configHome });
    const { exp } = JSON.parse(Buffer.from(auditor.split('.')[1]!, 'base64url').toString());
    writeCredentials(
      path,
      withLogin(readCredentials(path), { server: srv.url, access_token: auditor, expires_at: exp, principal: 'client:admin-bot', scope: 'jitgate:admin jitgate:audit', client_id: 'admin-bot' }),
    );
    const list = await cli.run(['usage', '--server', srv.url, '--principal', 'client:reporter']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^PRINCIPAL\s+SCOPE\s+RESOURCE\s+COUNT\s+FIRST USED\s+LAST USED\n/);
    assert.match(list.stdout, /client:reporter\s+read:billing\s+https:\/\/billing\.internal\s+4\s/);

    const unused = await cli.run(['usage', '--server', srv.url, '--unused', '30d', '--principal', 'client:reporter']);
    assert.equal(unused.code, 0, unused.stderr);
    assert.match(unused.stdout, /^PRINCIPAL\s+SCOPE\s+KIND\s+LAST USED\s+NOTES\n/);
    assert.match(unused.stdout, /client:reporter\s+read:logs\s+baseline\s+never/);
    assert.match(unused.stdout, /client:reporter\s+deploy:prod\s+eligible\s+\d{4}-\d\d-\d\d \d\d:\d\dZ \(40d ago\)/);
    assert.doesNotMatch(unused.stdout, /read:billing|admin:billing/);

    const asJson = await cli.run(['usage', '--server', srv.url, '--unused', '30d', '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const body = JSON.parse(asJson.stdout);
    assert.ok(body.items.some((u: any) => u.principal === 'client:reporter' && u.scope === 'read:logs'));

    const bad = await cli.run(['usage', '--server', srv.url, '--unused', 'soon']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--unused "soon" is not a duration/);
  });

  test('refusals: reporting needs jitgate:gateway, reading needs jitgate:audit, malformed reports write nothing', async () => {
    const own = await clientToken(srv.url, 'reporter');
    const gatewayToken = await clientToken(srv.url, 'jitgate-gateway');
    const now = Math.floor(clock.nowMs() / 1000);
    const entry = { principal: 'user:zed', scope: 'read:logs', resource: BILLING, count: 1, first_used: now, last_used: now };

    const notGateway = await api(srv.url, own, 'POST', '/usage', { usage: [entry] });
    assert.equal(notGateway.status, 403);
    assert.equal(notGateway.body.code, 'forbidden');
    assert.equal((await api(srv.url, auditor, 'POST', '/usage', { usage: [entry] })).status, 403, 'jitgate:audit does not report');
    assert.equal((await api(srv.url, own, 'GET', '/usage')).status, 403);
    assert.equal((await api(srv.url, own, 'GET', '/usage/unused?for=30d')).status, 403);
    assert.equal((await api(srv.url, gatewayToken, 'GET', '/usage')).status, 403, 'a gateway reports but does not read');

    const bad400: unknown[] = [
      [],
      { usage: {} },
      { usage: [entry], extra: 1 },
      { usage: [{ ...entry, count: 0 }] },
      { usage: [{ ...entry, count: 1.5 }] },
      { usage: [{ ...entry, principal: 'zed' }] },
      { usage: [{ ...entry, scope: 'has space' }] },
      { usage: [{ ...entry, resource: 'not a uri' }] },
      { usage: [{ ...entry, first_used: '2026-01-01' }] },
      { usage: [{ ...entry, secret: 'x' }] },
      // Under the 64 KiB body limit, over the entry limit.
      { usage: Array.from({ length: 501 }, () => ({ principal: 'user:z', scope: 'a', resource: 'x:y', count: 1, first_used: now, last_used: now })) },
      { revoked: [{ jti: 'a', principal: 'user:zed', resource: BILLING, cause: 'scope_withdrawn', at: now }] },
      { revoked: [{ jti: 'a\u0000', principal: 'user:zed', resource: BILLING, cause: 'token_revoked', at: now }] },
      // A good entry before a bad one: the whole report is refused, the good one too.
      { usage: [entry, { ...entry, scope: 'read:billing', count: -1 }] },
    ];
    for (const body of bad400) {
      const res = await api(srv.url, gatewayToken, 'POST', '/usage', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
      assert.equal(res.body.code, 'body_invalid');
    }
    for (const body of [{ usage: [{ ...entry, first_used: now + 10, last_used: now }] }, { usage: [{ ...entry, first_used: now + 3600, last_used: now + 3600 }] }]) {
      const res = await api(srv.url, gatewayToken, 'POST', '/usage', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.code, 'usage_invalid');
    }
    const text = await fetch(`${srv.url}/api/v1/usage`, { method: 'POST', headers: { authorization: `Bearer ${gatewayToken}`, 'content-type': 'text/plain' }, body: 'usage' });
    assert.equal(text.status, 415);
    assert.deepEqual(await usage('?principal=user:zed'), [], 'nothing of a refused report was written');

    for (const query of ['?principal=zed', '?since=soon', '?limit=0', '?scope=a%20b']) {
      const res = await api(srv.url, auditor, 'GET', `/usage${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, 'query_invalid');
    }
    for (const query of ['', '?for=soon', '?for=0', '?for=30d&principal=zed']) {
      assert.equal((await api(srv.url, auditor, 'GET', `/usage/unused${query}`)).status, 400, query);
    }

    // A good report, sent twice (a retry after a lost answer), counts twice and keeps its instants.
    const twice = { usage: [entry, { ...entry, count: 2 }] };
    for (let i = 0; i < 2; i++) {
      const res = await api(srv.url, gatewayToken, 'POST', '/usage', twice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { recorded: 1, revoked_recorded: 0, revoked_unconfirmed: 0 });
    }
    const [zed] = await usage('?principal=user:zed');
    assert.equal(zed.count, 6);
    assert.equal(zed.first_used_at, iso(now * 1000));
  });

  test('a revoked token, or one of a revoked grant, presented at the gateway raises revoked_token_use on the server', async () => {
    const alerts = async () => {
      const res = await api(srv.url, auditor, 'GET', '/alerts?type=revoked_token_use');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items as any[];
    };
    const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
    const { jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 200);
    assert.equal((await postForm(`${srv.url}/revoke`, { token }, { authorization: REPORTER })).status, 200);
    const { answer } = await until(() => call(gw.url, { path: '/invoices/1', token }), (a) => a.status !== 200);
    assert.equal(answer.status, 401);
    // Presented again: one report of it, not one per refusal.
    assert.equal((await call(gw.url, { path: '/invoices/1', token })).status, 401);

    const { token: elevated, grantId } = await elevatedToken(srv.url);
    assert.equal((await call(gw.url, { path: '/admin/users', token: elevated })).status, 200);
    assert.equal((await api(srv.url, auditor, 'POST', `/grants/${grantId}/revoke`, { reason: 'done' })).status, 200);
    await until(() => call(gw.url, { path: '/admin/users', token: elevated }), (a) => a.status !== 200);

    assert.deepEqual(await alerts(), [], 'the gateway has not reported yet');
    const flushed = await gw.flushUsage();
    assert.equal(flushed.ok, true);
    await srv.alerts.settle();
    let raised: any[] = [];
    for (let i = 0; i < 200 && raised.length < 2; i++) {
      raised = await alerts();
      if (raised.length < 2) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(raised.length, 2, JSON.stringify(raised));
    const byCause = Object.fromEntries(raised.map((a) => [a.details.cause, a]));
    assert.equal(byCause.token_revoked.details.jti, jti);
    assert.equal(byCause.token_revoked.details.presented_at, 'gateway');
    assert.equal(byCause.token_revoked.principal, 'client:reporter');
    assert.match(byCause.token_revoked.summary, /at a gateway/);
    assert.equal(byCause.grant_revoked.details.grant_id, grantId);
    assert.equal(byCause.grant_revoked.details.presented_at, 'gateway');
    assert.doesNotMatch(JSON.stringify(raised), new RegExp(token.split('.')[2]!), 'never the token');

    // A report naming a token that is not revoked raises nothing: the server checks its own records.
    const live = await clientToken(srv.url, 'reporter', { resource: BILLING });
    const liveJti = JSON.parse(Buffer.from(live.split('.')[1]!, 'base64url').toString()).jti;
    const gatewayToken = await clientToken(srv.url, 'jitgate-gateway');
    const forged = await api(srv.url, gatewayToken, 'POST', '/usage', {
      revoked: [
        { jti: liveJti, principal: 'client:reporter', resource: BILLING, cause: 'token_revoked', at: Math.floor(clock.nowMs() / 1000) },
        { jti: 'no-such-token', principal: 'client:reporter', resource: BILLING, cause: 'grant_revoked', at: Math.floor(clock.nowMs() / 1000) },
      ],
    });
    assert.equal(forged.status, 200, JSON.stringify(forged.body));
    assert.deepEqual(forged.body, { recorded: 0, revoked_recorded: 0, revoked_unconfirmed: 2 });
    await srv.alerts.settle();
    assert.equal((await alerts()).length, 2);
  });

  test('a report that fails keeps its counts for the next one; past its key bound the recorder counts what it dropped', async () => {
    const lines: any[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) }));
    const recorder = new UsageRecorder({ server: srv.url, flushMs: 3_600_000, maxKeys: 2, log });
    const meta = { tokenEndpoint: `${srv.url}/token`, clock };
    // A client without jitgate:gateway: its credentials are refused for the gateway scope.
    recorder.start(new ServiceToken({ ...meta, clientId: 'reporter', clientSecret: GATEWAY_SECRETS.reporter }));
    const now = Math.floor(clock.nowMs() / 1000);
    const holder: { usage?: Map<object, any> } = {};
    const route = {};
    recorder.record(holder, 'user:yara', route, ['read:logs', 'read:billing'], DEPLOY, now);
    recorder.record(holder, 'user:yara', route, ['read:logs', 'read:billing'], DEPLOY, now + 1);
    recorder.record({}, 'user:yara', {}, ['deploy:prod'], DEPLOY, now + 2);
    assert.equal(recorder.size, 2);

    assert.deepEqual(await recorder.flush(), { sent: 0, ok: false });
    assert.deepEqual(await usage('?principal=user:yara'), []);
    assert.ok(lines.some((l) => l.dropped === 1), JSON.stringify(lines));
    recorder.record(holder, 'user:yara', route, ['read:logs', 'read:billing'], DEPLOY, now + 3);

    recorder.start(new ServiceToken({ ...meta, clientId: 'jitgate-gateway', clientSecret: GATEWAY_SECRETS['jitgate-gateway'] }));
    assert.deepEqual(await recorder.close(), { sent: 2, ok: true });
    const rows = await usage('?principal=user:yara');
    assert.deepEqual(
      rows.map((r) => [r.scope, r.count, r.first_used_at, r.last_used_at]).sort(),
      [
        ['read:billing', 3, iso(now * 1000), iso((now + 3) * 1000)],
        ['read:logs', 3, iso(now * 1000), iso((now + 3) * 1000)],
      ],
    );
  });

  test('a large report is split to fit the server’s entry and body limits', async () => {
    const recorder = new UsageRecorder({ server: srv.url, flushMs: 3_600_000, log: pino({ level: 'silent' }) });
    recorder.start(new ServiceToken({ tokenEndpoint: `${srv.url}/token`, clock, clientId: 'jitgate-gateway', clientSecret: GATEWAY_SECRETS['jitgate-gateway'] }));
    const now = Math.floor(clock.nowMs() / 1000);
    for (let i = 0; i < 1200; i++) recorder.record({}, 'user:many', {}, [`scope:${i}`], `https://api-${'x'.repeat(40)}.internal`, now);
    assert.deepEqual(await recorder.close(), { sent: 1200, ok: true });
    assert.equal((await usage('?principal=user:many&limit=5000')).length, 1200);
  });
});
