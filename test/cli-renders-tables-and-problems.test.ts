import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from '../src/cli/client/table.js';
import { failureFromAnswer, oauthErrorLines, problemLines } from '../src/cli/client/problem.js';
import { parseWwwAuthenticate } from '../src/cli/client/www-authenticate.js';
import { CliFailure, renderFailure } from '../src/cli/client/failure.js';
import { checkTimestampFlag, formatAge, formatClock, formatRelative, formatSpan, parseDurationFlag } from '../src/cli/client/duration.js';
import { StatusLine, statusFrame } from '../src/cli/client/spinner.js';
import { describeRequest, outcomeLine, requestRow, waitingOn, waitStatus } from '../src/cli/client/request-text.js';
import { grantRow } from '../src/cli/client/grant-text.js';
import { readClaims } from '../src/cli/client/jwt-claims.js';
import { printable } from '../src/cli/client/terminal-text.js';
import { buildRequestBody, requestExitCode } from '../src/cli/request.js';
import { exitStatusOf } from '../src/cli/exec.js';
import type { AccessRequestView, GrantView } from '../src/cli/client/types.js';

const NOW = Date.parse('2026-03-02T09:10:00Z');

const answer = (status: number, body: unknown, headers: Record<string, string> = {}, statusText = '') => ({
  status,
  statusText,
  headers: new Headers({ 'content-type': 'application/problem+json', ...headers }),
  text: typeof body === 'string' ? body : JSON.stringify(body),
});

function pendingRequest(overrides: Partial<AccessRequestView> = {}): AccessRequestView {
  return {
    id: 'req_1',
    requester: 'user:alice',
    scopes: ['deploy:prod'],
    resource: 'https://deploy.internal',
    duration_s: 1800,
    reason: 'roll back the broken release',
    ticket: 'OPS-1',
    status: 'pending',
    decision: { rule: 'production needs a lead, then security', outcome: 'stages', message: 'needs sre-leads, then security', policy_hash: 'ab' },
    stages: [
      { approvers: ['sre-leads'], count: 1, status: 'active', escalate_to: ['security'], escalated: false, approvals: [] },
      { approvers: ['security'], count: 1, status: 'waiting', escalate_to: [], escalated: false, approvals: [] },
    ],
    grant: null,
    created_at: '2026-03-02T09:05:00Z',
    expires_at: '2026-03-02T10:05:00Z',
    ...overrides,
  };
}

test('tables: capitalised headers, columns two spaces apart, no trailing blanks', () => {
  const out = renderTable(['id', 'status', 'notes'], [
    ['req_1', 'pending', ''],
    ['req_22', 'approved', 'x'],
  ]);
  assert.equal(out, 'ID      STATUS    NOTES\nreq_1   pending\nreq_22  approved  x\n');
});

test('tables: on a narrow terminal the shrinkable columns are cut with …, the others are kept whole', () => {
  const rows = [['req_1', 'deploy:prod, read:logs, read:billing', 'https://deploy.internal', 'pending']];
  const cols = [{ header: 'id' }, { header: 'scopes', shrink: true }, { header: 'resource', shrink: true }, { header: 'status' }];
  const wide = renderTable(cols, rows);
  assert.ok(wide.split('\n')[1]!.includes('deploy:prod, read:logs, read:billing'));
  const narrow = renderTable(cols, rows, { width: 60 });
  for (const line of narrow.trimEnd().split('\n')) assert.ok([...line].length <= 60, `${line} fits 60`);
  // The widest shrinkable column gives up exactly what is missing; the other keeps its width.
  assert.equal(narrow.split('\n')[1], 'req_1  deploy:prod, read:…  https://deploy.internal  pending');
  assert.equal(narrow.split('\n')[1]!.length, 60);
  // A terminal too narrow for anything still gets whole ids and statuses.
  assert.equal(renderTable(cols, rows, { width: 10 }).split('\n')[1], 'req_1  deploy:pr…  https://d…  pending');
});

test('server text cannot reach the terminal as control sequences', () => {
  assert.equal(printable('ok\x1b[2J\x07done\nnext'), 'ok\\x1b[2J\\x07done next');
  const out = renderTable(['reason'], [['\x1b]0;owned\x07']]);
  assert.ok(!out.includes('\x1b'), out);
  const lines = problemLines({ title: 'Bad', detail: 'evil \x1b[31mred' });
  assert.equal(lines[0], 'Bad: evil \\x1b[31mred');
});

test('problems: title and detail, then the members that say how to recover', () => {
  const notEligible = {
    type: 'urn:jitgate:problem:not_eligible',
    title: 'Not eligible',
    status: 403,
    detail: 'user:carol may not request deploy:prod',
    code: 'not_eligible',
    scopes: ['deploy:prod'],
    eligible: ['read:billing'],
    eligibleBundles: [],
  };
  assert.deepEqual(problemLines(notEligible), [
    'Not eligible: user:carol may not request deploy:prod',
    '  scopes: deploy:prod',
    '  you may request: read:billing',
    '  bundles you may request: nothing',
  ]);
  assert.deepEqual(problemLines({ title: 'Duration too long', detail: '2h is longer than 1h', maxS: 3600, field: 'duration' }), [
    'Duration too long: 2h is longer than 1h',
    '  longest allowed: 1h',
    '  field: duration',
  ]);
  assert.deepEqual(problemLines({ title: 'Resource ambiguous', detail: 'more than one', candidates: ['https://a', 'https://b'], other: { a: 1 } }), [
    'Resource ambiguous: more than one',
    '  resources that accept these scopes: https://a, https://b',
    '  other: {"a":1}',
  ]);

  const f = failureFromAnswer('https://jit.example', answer(403, notEligible));
  assert.equal(f.code, 'not_eligible');
  assert.equal(f.exitCode, 1);
  assert.equal(renderFailure(f).split('\n')[0], 'jitgate: Not eligible: user:carol may not request deploy:prod');
});

test('a 401 asking for stronger authentication (RFC 9470) says a fresh MFA login is needed, with acr_values and max_age', () => {
  const f = failureFromAnswer(
    'https://jit.example',
    answer(
      401,
      { title: 'Insufficient user authentication', status: 401, detail: 'these scopes need a recent multi-factor sign-in', acr_values: 'urn:jitgate:acr:mfa', max_age: 900 },
      { 'www-authenticate': 'Bearer error="insufficient_user_authentication", error_description="these scopes need MFA", acr_values="urn:jitgate:acr:mfa", max_age="900"' },
    ),
  );
  assert.equal(f.code, 'mfa_required');
  assert.equal(f.exitCode, 1);
  assert.equal(f.lines[0], 'this needs a fresh MFA login: these scopes need a recent multi-factor sign-in');
  assert.equal(f.lines[1], '  the server asks for acr_values=urn:jitgate:acr:mfa, max_age=900 (signed in within the last 15m)');
  assert.equal(f.lines[2], '  log in again with MFA: jitgate login --step-up --server https://jit.example');

  const stale = failureFromAnswer('https://jit.example', answer(401, { title: 'Invalid token', detail: 'the access token is not active' }, { 'www-authenticate': 'Bearer error="invalid_token"' }));
  assert.equal(stale.code, 'login_rejected');
  assert.deepEqual(stale.lines, ['the server no longer accepts your login: the access token is not active', '  run: jitgate login --server https://jit.example']);
});

test('answers that are not problems still say what happened', () => {
  const gateway = failureFromAnswer('https://jit.example', { ...answer(502, '<html>bad gateway</html>', {}, 'Bad Gateway') });
  assert.deepEqual(gateway.lines, ['the server at https://jit.example answered HTTP 502 Bad Gateway']);
  const oauth = failureFromAnswer('https://jit.example', answer(400, { error: 'invalid_grant', error_description: 'subject_token expired' }));
  assert.equal(oauth.code, 'oauth_invalid_grant');
  assert.deepEqual(oauth.lines, ['invalid_grant: subject_token expired']);
  assert.deepEqual(oauthErrorLines({ error: 'invalid_scope', error_description: 'no active grant', scopes: ['deploy:prod'] }), [
    'invalid_scope: no active grant',
    '  scopes: deploy:prod',
  ]);
});

test('WWW-Authenticate: several challenges, quoted strings with commas and escapes, lower-cased names', () => {
  assert.deepEqual(
    parseWwwAuthenticate('Basic realm="a, b", Bearer Error="insufficient_user_authentication", error_description="say \\"hi\\"", max_age=300, DPoP algs="ES256"'),
    [
      { scheme: 'Basic', params: { realm: 'a, b' } },
      { scheme: 'Bearer', params: { error: 'insufficient_user_authentication', error_description: 'say "hi"', max_age: '300' } },
      { scheme: 'DPoP', params: { algs: 'ES256' } },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate('Bearer'), [{ scheme: 'Bearer', params: {} }]);
  assert.deepEqual(parseWwwAuthenticate(null), []);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'Bearer', params: { realm: 'unterminated' } }]);
});

test('durations and instants: the server’s grammar in, coarse human spans out', () => {
  assert.equal(parseDurationFlag('30m', '--for'), 1800);
  assert.equal(parseDurationFlag('1h30m', '--for'), 5400);
  assert.equal(parseDurationFlag(' 900 ', '--for'), 900);
  for (const bad of ['0', '30x', '-5m', '30m1h', '']) {
    assert.throws(() => parseDurationFlag(bad, '--for'), (e: unknown) => e instanceof CliFailure && e.code === 'usage' && e.message.includes('--for'));
  }
  assert.equal(checkTimestampFlag('2026-03-02T09:00:00+01:00', '--starts-at'), '2026-03-02T09:00:00+01:00');
  assert.throws(() => checkTimestampFlag('2026-03-02 09:00', '--starts-at'), /RFC 3339/);
  assert.throws(() => checkTimestampFlag('2026-02-30T09:00:00Z', '--starts-at'), /not a timestamp/);
  assert.deepEqual([42, 61, 3599, 7200, 3 * 86_400].map(formatAge), ['42s', '1m', '59m', '2h', '3d']);
  assert.deepEqual([5, 899.4, 7500, 90_000].map(formatSpan), ['5s', '15m', '2h5m', '1d1h']);
  assert.deepEqual([42, 723, 3723].map(formatClock), ['0:42', '12:03', '1:02:03']);
  assert.equal(formatRelative(NOW + 1_500_000, NOW), 'in 25m');
  assert.equal(formatRelative(NOW - 180_000, NOW), '3m ago');
  assert.equal(formatRelative(NOW, NOW), 'now');
});

test('the live status: one redrawn line on a terminal, one plain line per change elsewhere', () => {
  assert.equal(statusFrame('waiting for approval: stage 1/2 (sre-leads)', 42, 0), '⠋ waiting for approval: stage 1/2 (sre-leads) · 0:42');
  assert.equal(statusFrame('x', 61, 1), '⠙ x · 1:01');

  let now = NOW;
  const plain: string[] = [];
  const log = new StatusLine({ err: (t) => plain.push(t), stderrTty: false, nowMs: () => now });
  log.set('waiting for approval: stage 1/2 (sre-leads)');
  now += 5000;
  log.set('waiting for approval: stage 1/2 (sre-leads)');
  log.set('waiting for approval: stage 2/2 (security)');
  log.stop();
  assert.deepEqual(plain, ['waiting for approval: stage 1/2 (sre-leads)\n', 'waiting for approval: stage 2/2 (security)\n']);

  const tty: string[] = [];
  const live = new StatusLine({ err: (t) => tty.push(t), stderrTty: true, nowMs: () => now }, 60_000);
  now += 42_000;
  live.set('waiting');
  live.stop();
  live.stop();
  assert.deepEqual(tty, ['\r\x1b[2K⠋ waiting · 0:42', '\r\x1b[2K']);
});

test('requests for people: who it waits on, the live status, and how it ended', () => {
  const req = pendingRequest();
  assert.equal(waitingOn(req), 'stage 1/2: sre-leads (0/1)');
  assert.equal(waitStatus(req), 'waiting for approval: stage 1/2 (sre-leads)');
  const escalated = pendingRequest({
    stages: [{ approvers: ['sre-leads'], count: 2, status: 'active', escalate_to: ['security'], escalated: true, approvals: [{ by: 'user:carol', at: '2026-03-02T09:06:00Z', comment: null }] }],
  });
  assert.equal(waitingOn(escalated), 'stage 1/1: sre-leads, escalated to security (1/2)');
  assert.deepEqual(requestRow(req, NOW), ['req_1', 'user:alice', 'deploy:prod', 'https://deploy.internal', 'pending', '5m', 'stage 1/2: sre-leads (0/1)']);

  const approved = pendingRequest({
    status: 'approved',
    grant: { id: 'gr_1', starts_at: '2026-03-02T09:10:00Z', ends_at: '2026-03-02T09:40:00Z', status: 'active' },
  });
  assert.equal(waitingOn(approved), '-');
  assert.equal(
    outcomeLine(approved, NOW),
    'approved: grant gr_1 (active) for deploy:prod from 2026-03-02T09:10:00Z (now) until 2026-03-02T09:40:00Z (in 30m)',
  );
  const deniedAtStage = pendingRequest({
    status: 'denied',
    stages: [{ approvers: ['sre-leads'], count: 1, status: 'denied', approvals: [] }, { approvers: ['security'], count: 1, status: 'waiting', approvals: [] }],
  });
  assert.equal(outcomeLine(deniedAtStage, NOW), 'denied at stage 1/2 by sre-leads');
  const deniedByPolicy = pendingRequest({ status: 'denied', stages: [], decision: { rule: 'no admin at night', outcome: 'deny', message: 'rule "no admin at night" denies it', policy_hash: 'ab' } });
  assert.equal(outcomeLine(deniedByPolicy, NOW), 'denied by policy: rule "no admin at night" denies it');
  assert.match(outcomeLine(pendingRequest({ status: 'expired' }), NOW), /^expired: no decision was made in time/);
  assert.equal(outcomeLine(pendingRequest({ status: 'cancelled' }), NOW), 'cancelled by the requester');
  assert.deepEqual(['pending', 'approved', 'denied', 'expired', 'cancelled'].map((s) => requestExitCode(pendingRequest({ status: s as AccessRequestView['status'] }))), [0, 0, 2, 2, 2]);

  const text = describeRequest(req, NOW);
  assert.match(text, /^request req_1 {2}pending\n/);
  assert.match(text, /^ {2}stage 1\/2 {2}active: sre-leads, 0 of 1 approval$/m);
  assert.match(text, /^ {2}expires {4}2026-03-02T10:05:00Z \(in 55m\) unless decided$/m);
});

test('grants for people: window relative to now and notes for break-glass and revocation', () => {
  const g: GrantView = {
    id: 'gr_1',
    request_id: 'req_1',
    principal: 'user:alice',
    scopes: ['deploy:prod'],
    resource: 'https://deploy.internal',
    starts_at: '2026-03-02T09:00:00Z',
    ends_at: '2026-03-02T09:30:00Z',
    status: 'revoked',
    break_glass: true,
    review: 'pending',
    revoked_by: 'user:dave',
  };
  assert.deepEqual(grantRow(g, NOW), [
    'gr_1',
    'user:alice',
    'deploy:prod',
    'https://deploy.internal',
    'revoked',
    '2026-03-02 09:00Z (10m ago)',
    '2026-03-02 09:30Z (in 20m)',
    'break-glass, review pending, revoked by user:dave',
  ]);
});

test('request flags: refused before anything is sent when the server would refuse them for sure', () => {
  const ok = buildRequestBody(['deploy:prod,read:logs', 'deploy:prod'], {
    for: '30m',
    reason: '  roll back the broken release ',
    ticket: 'OPS-1',
    context: ['branch=main', 'note=a=b'],
    startsAt: '2026-03-02T09:00:00Z',
  });
  assert.deepEqual(ok, {
    scopes: ['deploy:prod', 'read:logs'],
    bundle: undefined,
    resource: undefined,
    duration: 1800,
    reason: 'roll back the broken release',
    ticket: 'OPS-1',
    starts_at: '2026-03-02T09:00:00Z',
    context: { branch: 'main', note: 'a=b' },
  });
  assert.deepEqual(buildRequestBody([], { bundle: 'incident-response', for: '1h', reason: 'INC-9 checkout is down' }).bundle, 'incident-response');
  const refused = (scopes: string[], flags: Parameters<typeof buildRequestBody>[1], pattern: RegExp) =>
    assert.throws(() => buildRequestBody(scopes, flags), (e: unknown) => e instanceof CliFailure && e.code === 'usage' && pattern.test(e.lines[0]!));
  refused([], { for: '30m', reason: 'r r r' }, /name the scopes/);
  refused(['a:b'], { bundle: 'x', for: '30m', reason: 'r r r' }, /not both/);
  refused(['a:b'], { reason: 'r r r' }, /--for DURATION is required/);
  refused(['a:b'], { for: '30m', reason: '   ' }, /--reason/);
  refused(['a:b'], { for: '30m', reason: 'r r r', context: ['novalue'] }, /key=value/);
  refused(['a:b'], { for: '30m', reason: 'r r r', context: ['=x'] }, /key=value/);
  refused(['a:b'], { for: '30m', reason: 'r r r', context: ['a=1', 'a=2'] }, /given twice/);
  refused(['a:b'], { for: '30m', reason: 'r r r', startsAt: 'tomorrow' }, /--starts-at/);
});

test('exec reports a command killed by a signal as 128 + its number, as shells do', () => {
  assert.equal(exitStatusOf(0, null), 0);
  assert.equal(exitStatusOf(7, null), 7);
  assert.equal(exitStatusOf(null, 'SIGTERM'), 143);
  assert.equal(exitStatusOf(null, 'SIGINT'), 130);
  assert.equal(exitStatusOf(null, 'SIGKILL'), 137);
});

test('token claims are read without verification: subject, scope and the grant behind an elevated token', () => {
  const jwt = (payload: object) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
  assert.deepEqual(readClaims(jwt({ sub: 'user:alice', scope: 'deploy:prod', exp: 5, client_id: 'jitgate-cli', grant: 'gr_1' })), {
    sub: 'user:alice',
    scope: 'deploy:prod',
    exp: 5,
    client_id: 'jitgate-cli',
    grants: ['gr_1'],
  });
  assert.deepEqual(readClaims(jwt({ sub: 'user:alice', grant: ['gr_1', 7, 'gr_2'] })).grants, ['gr_1', 'gr_2']);
  assert.deepEqual(readClaims(jwt({ sub: 'user:alice' })).grants, []);
  assert.throws(() => readClaims('not-a-jwt'), (e: unknown) => e instanceof CliFailure && e.code === 'token_malformed');
  assert.throws(() => readClaims(jwt({ scope: 'x' })), (e: unknown) => e instanceof CliFailure && e.code === 'token_malformed');
});
