import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath } from '../src/gateway/normalize-path.js';
import { compileRouteGlob } from '../src/gateway/route-glob.js';
import { compileRoutes, matchRoute } from '../src/gateway/routes.js';
import { upstreamRequestHeaders, downstreamResponseHeaders } from '../src/gateway/forward-headers.js';
import { expandInjectedHeaders } from '../src/gateway/inject-headers.js';
import { gatewayResources, hostnameOf } from '../src/gateway/resources.js';
import { RevocationSet } from '../src/gateway/revocation-set.js';
import { VerifiedTokenCache } from '../src/gateway/token-cache.js';
import { SseParser, type SseMessage } from '../src/gateway/sse-parser.js';
import { parseRevocationEntry } from '../src/revocations/entry.js';
import { pendingEntryOf, untilOf } from '../src/revocations/entry-of-event.js';
import { withdrawnScopes } from '../src/policy/withdrawn-scopes.js';
import type { AccessTokenClaims } from '../src/tokens/claims.js';
import { GATEWAY_ENV, GATEWAY_POLICY, gatewayPolicyText, parsePolicy } from './helpers/gateway.js';

const ok = (path: string) => ({ ok: true, path });

test('paths are normalized the way an upstream would read them', () => {
  assert.deepEqual(normalizePath('/invoices/2024'), ok('/invoices/2024'));
  assert.deepEqual(normalizePath('/invoices/../admin'), ok('/admin'));
  assert.deepEqual(normalizePath('/invoices/%2e%2e/admin'), ok('/admin'));
  assert.deepEqual(normalizePath('/invoices/%2E%2e/admin'), ok('/admin'));
  assert.deepEqual(normalizePath('/invoices/.%2e/admin'), ok('/admin'));
  assert.deepEqual(normalizePath('//invoices///2024/./07//'), ok('/invoices/2024/07/'));
  assert.deepEqual(normalizePath('/../../etc/passwd'), ok('/etc/passwd'));
  assert.deepEqual(normalizePath('/a/b/..'), ok('/a/'));
  assert.deepEqual(normalizePath('/a/.'), ok('/a/'));
  assert.deepEqual(normalizePath('/..'), ok('/'));
  assert.deepEqual(normalizePath('/'), ok('/'));
  // Encoded unreserved characters are the characters themselves; others stay encoded, in upper case.
  assert.deepEqual(normalizePath('/%69nvoices/a%7eb'), ok('/invoices/a~b'));
  assert.deepEqual(normalizePath('/invoices/a%20b%3f'), ok('/invoices/a%20b%3F'));
});

test('a normalized path is its own normal form, whichever way it was reached (random paths)', () => {
  // Paths in normal form skip the rebuilding: this checks both ways agree on what normal form is.
  const parts = ['a', 'b1', '.', '..', '', '%2e', '%2E%2e', '.x', 'x.', '~u', '%41', '%20', 'v;p=1', ':@'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % parts.length;
  for (let n = 0; n < 2000; n++) {
    const raw = '/' + Array.from({ length: 1 + (n % 6) }, () => parts[next()]).join('/');
    const once = normalizePath(raw);
    assert.equal(once.ok, true, raw);
    if (!once.ok) continue;
    assert.deepEqual(normalizePath(once.path), once, `${raw} → ${once.path}`);
    assert.doesNotMatch(once.path, /\/\/|\/\.{1,2}(\/|$)|%(2[eE]|4[1-9a-fA-F]|[57][eE])/, `${raw} → ${once.path}`);
  }
});

test('paths an upstream could read differently are refused', () => {
  for (const bad of [
    '/invoices/..%2Fadmin',
    '/invoices/..%2fadmin',
    '/invoices%2F..%2Fadmin',
    '/invoices/..%5Cadmin',
    '/invoices\\..\\admin',
    '/invoices/..;/admin',
    '/invoices/.;x/admin',
    '/invoices/%0d%0aX-Injected:%201',
    '/invoices/%00',
    '/invoices/%zz',
    '/invoices/%2',
    'invoices',
    'http://evil.example/invoices',
    '*',
    '/invoices/a b',
    '/invoices/\u00e9',
  ]) {
    const r = normalizePath(bad);
    assert.equal(r.ok, false, `${JSON.stringify(bad)} is refused`);
  }
  // A semicolon elsewhere is an ordinary character.
  assert.deepEqual(normalizePath('/invoices/a;v=1'), ok('/invoices/a;v=1'));
});

test('globs: * within a segment, ** across segments', () => {
  const g = (glob: string, path: string) => compileRouteGlob(glob).test(path);
  assert.ok(g('/invoices/**', '/invoices'));
  assert.ok(g('/invoices/**', '/invoices/'));
  assert.ok(g('/invoices/**', '/invoices/2024/07/x.pdf'));
  assert.ok(!g('/invoices/**', '/invoicesX'));
  assert.ok(!g('/invoices/**', '/invoices-archive/1'));
  assert.ok(g('/uploads/*', '/uploads/a.bin'));
  assert.ok(!g('/uploads/*', '/uploads/a/b'));
  assert.ok(g('/a/**/b', '/a/b'));
  assert.ok(g('/a/**/b', '/a/x/y/b'));
  assert.ok(!g('/a/**/b', '/a/x/yb'));
  assert.ok(g('/files/*.pdf', '/files/r.pdf'));
  assert.ok(!g('/files/*.pdf', '/files/rXpdf'));
  assert.ok(g('/status', '/status'));
  assert.ok(!g('/status', '/status/'));
  assert.ok(!g('/status', '/statusz'));
});

test('the first route matching method and path decides; HEAD follows GET; 405 lists what is allowed', () => {
  const policy = parsePolicy(gatewayPolicyText({ billing: 'http://127.0.0.1:1' }));
  const routes = compileRoutes(policy.resources.get('https://billing.internal')!.routes);
  const m = matchRoute(routes, 'GET', '/invoices/2024');
  assert.equal(m.kind, 'matched');
  assert.deepEqual(m.kind === 'matched' && m.route.scopes, ['read:billing']);
  assert.equal(matchRoute(routes, 'HEAD', '/invoices/2024').kind, 'matched');
  assert.deepEqual(matchRoute(routes, 'DELETE', '/invoices/2024'), { kind: 'method_not_allowed', allow: ['GET', 'HEAD'] });
  assert.deepEqual(matchRoute(routes, 'GET', '/nothing-here'), { kind: 'none' });
  // A route without `method` takes every method.
  assert.equal(matchRoute(routes, 'PATCH', '/status').kind, 'matched');
});

test('upstream headers: caller credentials, hop-by-hop and forged forwarding headers go; facts and injected credentials come', () => {
  const raw = [
    'Host', 'billing.internal',
    'Authorization', 'Bearer caller-token',
    'Connection', 'keep-alive, X-Hop',
    'X-Hop', 'only for this hop',
    'Keep-Alive', 'timeout=5',
    'TE', 'trailers',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'websocket',
    'Proxy-Authorization', 'Basic abc',
    'X-Forwarded-For', '6.6.6.6',
    'Forwarded', 'for=6.6.6.6',
    'X-Request-Id', 'forged',
    'X-Tenant', 'caller-chosen',
    'Accept', 'application/json',
    'Cookie', 'a=1',
    'Cookie', 'b=2',
    'Content-Length', '3',
  ];
  const out = upstreamRequestHeaders(raw, {
    clientAddress: '10.0.0.7',
    proto: 'http',
    host: 'billing.internal',
    requestId: 'rid-1',
    injected: { authorization: 'Bearer upstream', 'x-tenant': 'acme' },
  });
  const pairs: [string, string][] = [];
  for (let i = 0; i < out.length; i += 2) pairs.push([out[i]!.toLowerCase(), out[i + 1]!]);
  const names = pairs.map(([n]) => n);
  for (const gone of ['host', 'connection', 'x-hop', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'forwarded']) {
    assert.ok(!names.includes(gone), `${gone} is not forwarded`);
  }
  const all = (name: string) => pairs.filter(([n]) => n === name).map(([, v]) => v);
  assert.deepEqual(all('authorization'), ['Bearer upstream']);
  assert.deepEqual(all('x-tenant'), ['acme']);
  assert.deepEqual(all('x-forwarded-for'), ['10.0.0.7']);
  assert.deepEqual(all('x-forwarded-proto'), ['http']);
  assert.deepEqual(all('x-forwarded-host'), ['billing.internal']);
  assert.deepEqual(all('x-request-id'), ['rid-1']);
  assert.deepEqual(all('cookie'), ['a=1', 'b=2']);
  assert.deepEqual(all('accept'), ['application/json']);
  assert.deepEqual(all('content-length'), ['3']);

  const down = downstreamResponseHeaders({
    'content-type': 'text/plain',
    connection: 'close, x-internal',
    'x-internal': 'secret',
    'keep-alive': 'timeout=9',
    'transfer-encoding': 'chunked',
    'set-cookie': ['a=1', 'b=2'],
  });
  assert.deepEqual(down, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  // The gateway's request id replaces whatever the upstream called its own.
  assert.deepEqual(downstreamResponseHeaders({ 'content-type': 'text/plain', 'X-Request-Id': 'upstream-id' }, 'rid-1'), { 'content-type': 'text/plain', 'x-request-id': 'rid-1' });
  // The common `Connection: keep-alive` lists only what is dropped anyway; every other header stays, both ways.
  assert.deepEqual(downstreamResponseHeaders({ 'content-type': 'text/plain', connection: 'Keep-Alive', 'keep-alive': 'timeout=5', 'x-keep': '1' }), {
    'content-type': 'text/plain',
    'x-keep': '1',
  });
  const kept = upstreamRequestHeaders(['Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'X-Keep', '1', 'Accept', '*/*'], {
    clientAddress: '10.0.0.7',
    proto: 'http',
    host: 'billing.internal',
    requestId: 'rid-2',
    injected: {},
  });
  assert.deepEqual(kept.slice(0, 4), ['X-Keep', '1', 'Accept', '*/*']);
});

test('injected headers: ${ENV} expanded; a missing or empty variable, or a line break, stops the gateway', () => {
  const tpl = { Authorization: 'Bearer ${KEY}', 'x-tenant': 'acme-${T}' };
  assert.deepEqual(expandInjectedHeaders(tpl, { KEY: 'k1', T: 'eu' }, 'https://a'), { authorization: 'Bearer k1', 'x-tenant': 'acme-eu' });
  assert.throws(() => expandInjectedHeaders(tpl, { T: 'eu' }, 'https://a'), (e: any) => e.code === 'gateway_env_missing' && /KEY/.test(e.message));
  assert.throws(() => expandInjectedHeaders(tpl, { KEY: '', T: 'eu' }, 'https://a'), (e: any) => e.code === 'gateway_env_missing');
  for (const evil of ['k\r\nX-Injected: 1', 'k\nX: 1', 'k\u0000']) {
    assert.throws(
      () => expandInjectedHeaders(tpl, { KEY: evil, T: 'eu' }, 'https://a'),
      (e: any) => e.code === 'gateway_header_invalid' && !e.message.includes(evil),
    );
  }
  assert.throws(() => expandInjectedHeaders({ 'X-Forwarded-For': '1.2.3.4' }, {}, 'https://a'), (e: any) => e.code === 'gateway_header_invalid');
  assert.throws(() => expandInjectedHeaders({ Host: 'x' }, {}, 'https://a'), (e: any) => e.code === 'gateway_header_invalid');
});

test('resources are found by the Host name of their audience', () => {
  const text = gatewayPolicyText({ billing: 'http://127.0.0.1:1/api/', deploy: 'http://127.0.0.1:2' });
  const res = gatewayResources(parsePolicy(text), GATEWAY_ENV);
  assert.equal(res.forHost('billing.internal')?.audience, 'https://billing.internal');
  assert.equal(res.forHost('BILLING.internal.:8443')?.audience, 'https://billing.internal');
  assert.equal(res.forHost('deploy.internal')?.audience, 'https://deploy.internal');
  assert.equal(res.forHost('other.internal'), null);
  assert.equal(res.forHost('billing.internal\r\nx: y'), null);
  assert.equal(res.forHost(undefined), null);
  assert.equal(res.forHost('billing.internal')?.upstreamBasePath, '/api');
  // One resource served: every Host goes there.
  const one = gatewayResources(parsePolicy(text), GATEWAY_ENV, ['https://deploy.internal']);
  assert.equal(one.forHost('localhost:8081')?.audience, 'https://deploy.internal');
  assert.equal(hostnameOf('[::1]:80'), '[::1]');
  assert.equal(hostnameOf('a b'), null);
  assert.throws(() => gatewayResources(parsePolicy(text), {}), (e: any) => e.code === 'gateway_env_missing');
  assert.throws(() => gatewayResources(parsePolicy(text), GATEWAY_ENV, ['https://nope.internal']), (e: any) => e.code === 'gateway_resource_unknown');
  const noUpstreams = GATEWAY_POLICY.replace(/^    upstream: .*\n/gm, '').replace(/^    inject_headers: .*\n/gm, '').replace(/^    routes:\n(      - .*\n)+/gm, '');
  assert.throws(() => gatewayResources(parsePolicy(noUpstreams), GATEWAY_ENV), (e: any) => e.code === 'gateway_no_resources');
  const sameHost = text.replace('audience: https://deploy.internal', 'audience: https://billing.internal/deploy');
  assert.throws(() => gatewayResources(parsePolicy(sameHost), GATEWAY_ENV), (e: any) => e.code === 'gateway_host_ambiguous');
});

const claims = (over: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'https://jit',
  sub: 'client:reporter',
  aud: 'https://billing.internal',
  client_id: 'reporter',
  scope: 'read:billing read:logs',
  jti: 'j1',
  iat: 1000,
  exp: 1900,
  ...over,
});

test('the revocation set refuses revoked tokens, grants and withdrawn scopes, and forgets them after `until`', () => {
  const set = new RevocationSet();
  const scopes = ['read:billing', 'read:logs'];
  assert.equal(set.check(claims(), scopes), null);
  set.apply({ cursor: 1, kind: 'token', at: 1100, until: 1900, jti: 'j1' });
  assert.equal(set.check(claims(), scopes), 'token_revoked');
  assert.equal(set.check(claims({ jti: 'j2' }), scopes), null);
  set.apply({ cursor: 2, kind: 'grant', at: 1100, until: 2000, grant: 'gr_1', principal: 'client:reporter' });
  assert.equal(set.check(claims({ jti: 'j3', grant: 'gr_1' }), scopes), 'grant_revoked');
  assert.equal(set.check(claims({ jti: 'j3', grant: 'gr_2' }), scopes), null);
  set.apply({ cursor: 3, kind: 'principal_scope', at: 1200, until: 2100, principal: 'client:reporter', scopes: ['read:billing'] });
  assert.equal(set.check(claims({ jti: 'j4', iat: 1200 }), scopes), 'scope_withdrawn', 'issued in the second of the withdrawal');
  assert.equal(set.check(claims({ jti: 'j4', iat: 1201 }), scopes), null, 'issued after it');
  assert.equal(set.check(claims({ jti: 'j5', scope: 'read:logs' }), ['read:logs']), null, 'without the scope');
  assert.equal(set.check(claims({ jti: 'j6', sub: 'client:other' }), scopes), null, 'another principal');
  assert.equal(set.size, 3);
  assert.equal(set.sweep(1950), 1);
  assert.equal(set.check(claims({ scope: 'read:logs' }), ['read:logs']), null, 'j1 forgotten once it has expired');
  assert.equal(set.sweep(2101), 2);
  assert.equal(set.size, 0);
});

test('verified tokens are cached until exp, least recently used out first', () => {
  const cache = new VerifiedTokenCache(2);
  const entry = (exp: number) => ({ claims: claims({ exp }), scopes: [] });
  cache.set('a', entry(100));
  cache.set('b', entry(100));
  assert.ok(cache.get('a', 50));
  cache.set('c', entry(100));
  assert.equal(cache.get('b', 50), undefined, 'b was least recently used');
  assert.ok(cache.get('a', 50));
  assert.equal(cache.get('a', 100), undefined, 'expired at exp');
  assert.equal(cache.size, 1);
});

test('the SSE reader splits events across chunks and line endings', () => {
  const got: SseMessage[] = [];
  const comments: string[] = [];
  const p = new SseParser({ message: (m) => got.push(m), comment: (c) => comments.push(c) });
  const enc = (s: string) => new TextEncoder().encode(s);
  p.push(enc(': hello\n\nid: 3\nevent: revocation\nda'));
  p.push(enc('ta: {"a":1}\r'));
  p.push(enc('\n\r\nevent: ready\r\ndata: {"cursor":3}\r\r: ka\n\n'));
  p.push(enc('data: x\ndata: y\n\n'));
  assert.deepEqual(got, [
    { event: 'revocation', data: '{"a":1}', id: '3' },
    { event: 'ready', data: '{"cursor":3}', id: '3' },
    { event: 'message', data: 'x\ny', id: '3' },
  ]);
  assert.deepEqual(comments, ['hello', 'ka']);
});

test('feed entries: audit events in, checked entries out', () => {
  const at = '2026-11-24T09:00:00.500Z';
  const atS = Date.parse('2026-11-24T09:00:00Z') / 1000;
  const token = pendingEntryOf({ seq: 5, at, type: 'token.revoked', subject: 'client:reporter', data: { jti: 'j1', client_id: 'reporter', reason: 'x' } });
  assert.deepEqual(token, { cursor: 5, kind: 'token', at: atS, until: null, jti: 'j1', principal: 'client:reporter' });
  assert.equal(untilOf(token!, { tokenExp: atS + 100 }, 900), atS + 100);
  assert.equal(untilOf(token!, { tokenExp: null }, 900), atS, 'a pruned token has expired');
  const grant = pendingEntryOf({ seq: 6, at, type: 'grant.released', subject: 'client:reporter', data: { grantId: 'gr_1', principal: 'client:reporter' } })!;
  assert.equal(grant.kind, 'grant');
  assert.equal(untilOf(grant, { grantEndsAt: atS + 60, grantTokensMaxExp: atS + 60 }, 900), atS + 60, 'a grant ending soon');
  assert.equal(untilOf(grant, { grantEndsAt: atS + 7200, grantTokensMaxExp: null }, 900), atS + 900, 'no token outlives at + lifetime');
  assert.equal(untilOf(grant, { grantEndsAt: atS + 7200, grantTokensMaxExp: atS + 3000 }, 900), atS + 3000, 'unless one was recorded longer');
  const withdrawn = pendingEntryOf({ seq: 7, at, type: 'scope.withdrawn', subject: 'client:reporter', data: { principal: 'client:reporter', scopes: ['read:billing'], until: atS + 900 } })!;
  assert.deepEqual(withdrawn, { cursor: 7, kind: 'principal_scope', at: atS, until: atS + 900, principal: 'client:reporter', scopes: ['read:billing'] });
  assert.equal(pendingEntryOf({ seq: 8, at, type: 'grant.started', subject: null, data: {} }), null);
  assert.equal(pendingEntryOf({ seq: 9, at, type: 'token.revoked', subject: null, data: {} }), null);

  assert.deepEqual(parseRevocationEntry({ cursor: 5, kind: 'token', at: 1, until: 2, jti: 'j' }), { cursor: 5, kind: 'token', at: 1, until: 2, jti: 'j' });
  assert.equal(parseRevocationEntry({ cursor: 5, kind: 'token', at: 1, until: 2 }), null, 'a token entry without jti');
  assert.equal(parseRevocationEntry({ cursor: 5, kind: 'principal_scope', at: 1, until: 2, principal: 'p', scopes: [] }), null);
  assert.equal(parseRevocationEntry({ cursor: 5, kind: 'everything', at: 1, until: 2 }), null);
});

test('a policy change withdraws what principals lose, not what moves from eligible to baseline', () => {
  const base = parsePolicy(gatewayPolicyText({ billing: 'http://127.0.0.1:1' }));
  const now = Date.parse('2026-11-24T09:00:00Z') / 1000;
  assert.deepEqual(withdrawnScopes(base, base, now), new Map());
  const text = gatewayPolicyText({ billing: 'http://127.0.0.1:1' });
  const dropped = parsePolicy(text.replace('baseline: [read:billing, read:logs], eligible: [admin:billing, deploy:prod]', 'baseline: [read:logs], eligible: [deploy:prod]'));
  assert.deepEqual(withdrawnScopes(base, dropped, now), new Map([['client:reporter', ['admin:billing', 'read:billing']]]));
  const promoted = parsePolicy(text.replace('baseline: [read:billing, read:logs], eligible: [admin:billing, deploy:prod]', 'baseline: [read:billing, read:logs, deploy:prod], eligible: [admin:billing]'));
  assert.deepEqual(withdrawnScopes(base, promoted, now), new Map());
  const demoted = parsePolicy(text.replace('baseline: [read:billing, read:logs], eligible: [admin:billing, deploy:prod]', 'baseline: [read:logs], eligible: [admin:billing, deploy:prod, read:billing]'));
  assert.deepEqual(withdrawnScopes(base, demoted, now), new Map([['client:reporter', ['read:billing']]]));
  const removed = parsePolicy(text.replace('members: [client:admin-bot]', 'members: []'));
  assert.deepEqual(withdrawnScopes(base, removed, now), new Map([['client:admin-bot', ['jitgate:admin']]]));
});
