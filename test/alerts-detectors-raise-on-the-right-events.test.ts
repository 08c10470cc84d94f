import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadPolicyText } from '../src/policy/load.js';
import type { AuditEventRecord } from '../src/audit/append.js';
import { detect } from '../src/alerts/detect.js';
import { emptyDetectorState, type DetectorState } from '../src/alerts/detector-state.js';
import { DEFAULT_DETECTOR_OPTIONS, type DetectorOptions } from '../src/alerts/detector-options.js';
import type { EventFacts, RequestFacts } from '../src/alerts/event-facts.js';
import { pendingNotices } from '../src/alerts/pending-notice.js';
import { webhooksFor } from '../src/alerts/subscriptions.js';
import { openRequest, approve, tick } from '../src/access/request-machine.js';
import type { Policy } from '../src/policy/types.js';

// Webhook URLs point nowhere: nothing here sends.
const text = readFileSync(new URL('./fixtures/alerts.yaml', import.meta.url), 'utf8').split('RECEIVER').join('http://127.0.0.1:9');
const { policy: loaded, issues } = loadPolicyText(text, { source: 'alerts.yaml' });
assert.ok(loaded, `the fixture policy loads: ${JSON.stringify(issues)}`);
const policy: Policy = loaded;

/** Saturday 03:00 and Tuesday 10:00, 19:00 and 07:59 in Europe/Berlin (UTC+1 in late November). */
const SAT_03 = '2026-11-28T02:00:00.000Z';
const TUE_10 = '2026-12-01T09:00:00.000Z';
const TUE_19 = '2026-12-01T18:00:00.000Z';
const TUE_0759 = '2026-12-01T06:59:00.000Z';

let seq = 0;
function ev(type: string, at: string, subject: string | null, data: Record<string, unknown>, actor: string | null = subject): AuditEventRecord {
  seq++;
  return { seq, id: `ev-${seq}`, at, type, actor, subject, data, prev_hash: '0'.repeat(64), hash: String(seq).padStart(64, '0') };
}
const submitted = (at: string, who: string, scopes: string[], extra: Record<string, unknown> = {}) =>
  ev('request.created', at, who, { requestId: `req_${seq + 1}`, requester: who, outcome: 'stages', rule: 'r', policyHash: policy.hash, scopes, resource: 'https://deploy.internal', ...extra });
const denied = (at: string, who: string) => ev('request.denied', at, who, { requestId: `req_${seq + 1}`, by: null, stage: null, reason: 'no rule' }, null);

function run(e: AuditEventRecord, facts: EventFacts = {}, state: DetectorState = emptyDetectorState(), options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS) {
  return detect(e, state, policy, facts, options);
}
const types = (r: { alerts: { type: string }[] }) => r.alerts.map((a) => a.type);
const minutes = (iso: string, m: number) => new Date(Date.parse(iso) + m * 60_000).toISOString();

test('off_hours: a high or critical scope requested outside business hours, read in the policy time zone', () => {
  const sat = run(submitted(SAT_03, 'user:alice', ['deploy:prod']));
  assert.deepEqual(types(sat), ['off_hours']);
  const a = sat.alerts[0]!;
  assert.equal(a.severity, 'high');
  assert.equal(a.principal, 'user:alice');
  assert.equal(a.at, SAT_03);
  assert.deepEqual(a.details.scopes, ['deploy:prod']);
  assert.equal(a.details.local_time, 'sat 03:00');
  assert.equal(a.details.timezone, 'Europe/Berlin');
  assert.match(a.summary, /user:alice requested deploy:prod outside business hours/);

  assert.equal(run(submitted(SAT_03, 'user:erin', ['db:write'])).alerts[0]!.severity, 'critical');
  assert.deepEqual(run(submitted(SAT_03, 'user:alice', ['read:logs', 'export:billing'])).alerts, [], 'low and medium risk never');
  assert.deepEqual(run(submitted(TUE_10, 'user:alice', ['deploy:prod'])).alerts, []);
  // `to` is excluded, `from` included.
  assert.deepEqual(types(run(submitted(TUE_19, 'user:alice', ['deploy:prod']))), ['off_hours']);
  assert.deepEqual(types(run(submitted(TUE_0759, 'user:alice', ['deploy:prod']))), ['off_hours']);
  assert.deepEqual(run(submitted(minutes(TUE_0759, 1), 'user:alice', ['deploy:prod'])).alerts, []);
  // Only the risky scopes are named; the request as a whole is in the details.
  const mixed = run(submitted(SAT_03, 'user:alice', ['read:metrics', 'deploy:prod'])).alerts[0]!;
  assert.deepEqual(mixed.details.scopes, ['deploy:prod']);
  assert.deepEqual(mixed.details.requested_scopes, ['read:metrics', 'deploy:prod']);
});

test('first_use: a high-risk scope the principal never held, once per principal and scope, only with the grants history at hand', () => {
  const ask = () => submitted(TUE_10, 'user:alice', ['deploy:prod', 'read:metrics']);
  assert.deepEqual(run(ask()).alerts, [], 'without the history nothing is guessed');
  assert.deepEqual(run(ask(), { heldBefore: new Set(['deploy:prod']) }).alerts, []);

  const first = run(ask(), { heldBefore: new Set(['read:metrics']) });
  assert.deepEqual(types(first), ['first_use']);
  assert.deepEqual(first.alerts[0]!.details.scopes, ['deploy:prod']);
  assert.equal(first.alerts[0]!.severity, 'high');
  // Asked again before any grant exists: already reported.
  assert.deepEqual(run(ask(), { heldBefore: new Set() }, first.state).alerts, []);
  // Someone else, or another risky scope, is new.
  assert.deepEqual(types(run(submitted(TUE_10, 'user:bob', ['deploy:prod']), { heldBefore: new Set() }, first.state)), ['first_use']);
  const critical = run(submitted(TUE_10, 'user:alice', ['db:write', 'deploy:prod']), { heldBefore: new Set() }, first.state);
  assert.deepEqual(critical.alerts[0]!.details.scopes, ['db:write']);
  assert.equal(critical.alerts[0]!.severity, 'critical');
  assert.deepEqual(run(submitted(TUE_10, 'user:bob', ['export:billing']), { heldBefore: new Set() }).alerts, []);
});

test('break_glass: a request approved by a break-glass rule, described from the stored request', () => {
  const req: RequestFacts = {
    id: 'req_bg',
    requester: 'user:erin',
    scopes: ['db:write'],
    resource: 'https://db.internal',
    durationS: 1800,
    reason: 'database on fire',
    ticket: 'INC-1',
    state: openRequest({ id: 'req_bg', requester: 'user:erin', decision: { outcome: 'break_glass', stages: null, rule: 'bg', message: '', policy_hash: 'h' }, durationS: 1800, startsAt: null, at: 0 }).state,
  };
  const approved = (breakGlass: boolean) =>
    ev('request.approved', TUE_10, 'user:erin', { requestId: 'req_bg', by: null, breakGlass, grant: { startsAt: 1_800_000_000, endsAt: 1_800_001_800 } }, null);
  const r = run(approved(true), { request: req });
  assert.deepEqual(types(r), ['break_glass']);
  const a = r.alerts[0]!;
  assert.equal(a.severity, 'critical');
  assert.equal(a.principal, 'user:erin');
  assert.deepEqual(a.details, {
    request_id: 'req_bg',
    scopes: ['db:write'],
    resource: 'https://db.internal',
    reason: 'database on fire',
    ticket: 'INC-1',
    starts_at: new Date(1_800_000_000_000).toISOString(),
    ends_at: new Date(1_800_001_800_000).toISOString(),
  });
  assert.deepEqual(run(approved(false), { request: req }).alerts, []);
});

test('denial_burst: N denials of one principal within the window, raised once per burst; a quiet window ends the burst', () => {
  let state = emptyDetectorState();
  const t0 = TUE_10;
  const deny = (m: number, who = 'user:bob') => {
    const r = run(denied(minutes(t0, m), who), {}, state);
    state = r.state;
    return types(r);
  };
  for (const m of [0, 2, 4, 6]) assert.deepEqual(deny(m), []);
  assert.deepEqual(deny(1, 'user:carol'), [], 'other principals count apart');
  const fifth = run(denied(minutes(t0, 8), 'user:bob'), {}, state);
  assert.deepEqual(types(fifth), ['denial_burst']);
  assert.equal(fifth.alerts[0]!.details.denials, 5);
  assert.equal(fifth.alerts[0]!.details.since, minutes(t0, 0));
  assert.equal(fifth.alerts[0]!.principal, 'user:bob');
  state = fifth.state;
  // The burst goes on: each denial within 10 min of the previous one keeps it open and silent.
  for (const m of [9, 15, 24, 33]) assert.deepEqual(deny(m), []);
  // Ten quiet minutes close it; the next burst needs five new denials.
  for (const m of [44, 45, 46, 47]) assert.deepEqual(deny(m), []);
  assert.deepEqual(deny(48), ['denial_burst']);

  // Denials spread thinner than the window never make a burst.
  state = emptyDetectorState();
  for (let i = 0; i < 20; i++) assert.deepEqual(deny(100 + i * 3, 'user:dave'), []);

  // Thresholds are options.
  state = emptyDetectorState();
  const tight = { ...DEFAULT_DETECTOR_OPTIONS, denialBurstCount: 2, denialBurstWindowS: 60 };
  state = run(denied(t0, 'user:erin'), {}, state, tight).state;
  assert.deepEqual(types(run(denied(minutes(t0, 2), 'user:erin'), {}, state, tight)), []);
  assert.deepEqual(types(run(denied(minutes(t0, 0.5), 'user:erin'), {}, state, tight)), ['denial_burst']);
});

test('revoked_token_use and self_approval_attempt: raised from the events recorded for them', () => {
  const use = run(ev('token.revoked_use', TUE_10, 'user:alice', { jti: 'j1', client_id: 'jitgate-cli', grant_id: 'gr_1', cause: 'grant_revoked', presented_at: 'introspection' }, null));
  assert.deepEqual(types(use), ['revoked_token_use']);
  assert.equal(use.alerts[0]!.severity, 'high');
  assert.deepEqual(use.alerts[0]!.details, { jti: 'j1', client_id: 'jitgate-cli', grant_id: 'gr_1', cause: 'grant_revoked', presented_at: 'introspection' });
  assert.match(use.alerts[0]!.summary, /token of a revoked grant of user:alice was presented at introspection/);

  const self = run(ev('request.self_approval_attempt', TUE_10, 'user:alice', { requestId: 'req_9', scopes: ['deploy:prod'] }));
  assert.deepEqual(types(self), ['self_approval_attempt']);
  assert.equal(self.alerts[0]!.principal, 'user:alice');
  assert.deepEqual(self.alerts[0]!.details, { request_id: 'req_9', scopes: ['deploy:prod'] });
});

test('detectors are pure: unrelated events change nothing, and a given state is never modified', () => {
  const state = emptyDetectorState();
  for (const type of ['token.issued', 'alert.raised', 'grant.created', 'request.cancelled']) {
    const r = run(ev(type, SAT_03, 'user:alice', { scopes: ['deploy:prod'], breakGlass: true }), { heldBefore: new Set() }, state);
    assert.deepEqual(r.alerts, [], type);
    assert.equal(r.state, state, type);
  }
  let s = emptyDetectorState();
  for (let i = 0; i < 4; i++) s = run(denied(minutes(TUE_10, i), 'user:bob'), {}, s).state;
  s = run(submitted(TUE_10, 'user:bob', ['deploy:prod']), { heldBefore: new Set() }, s).state;
  const snapshot = JSON.stringify({ d: [...s.denials], f: [...s.firstUseReported] });
  const e = denied(minutes(TUE_10, 5), 'user:bob');
  const one = run(e, {}, s);
  const two = run(e, {}, s);
  assert.deepEqual(types(one), ['denial_burst']);
  assert.deepEqual(one, two, 'same input, same output');
  assert.equal(JSON.stringify({ d: [...s.denials], f: [...s.firstUseReported] }), snapshot);

  // Memory stays bounded.
  let many = emptyDetectorState();
  const small = { ...DEFAULT_DETECTOR_OPTIONS, maxTracked: 3 };
  for (let i = 0; i < 10; i++) many = run(denied(TUE_10, `user:p${i}`), {}, many, small).state;
  assert.deepEqual([...many.denials.keys()], ['user:p7', 'user:p8', 'user:p9']);
});

test('request.pending notices: on filing, on escalation and when the chain moves on, naming who may decide now', () => {
  const stages = policy.rules.find((r) => r.name === 'production needs a lead, then security')!.stages!;
  const opened = openRequest({
    id: 'req_p',
    requester: 'user:alice',
    decision: { outcome: 'stages', stages, rule: 'production needs a lead, then security', message: '', policy_hash: 'h' },
    durationS: 1800,
    startsAt: null,
    at: 1_800_000_000,
  });
  const facts = (state = opened.state): EventFacts => ({
    request: { id: 'req_p', requester: 'user:alice', scopes: ['deploy:prod'], resource: 'https://deploy.internal', durationS: 1800, reason: 'fix', ticket: 'OPS-2', state },
  });
  const filed = ev('request.created', TUE_10, 'user:alice', { requestId: 'req_p', outcome: 'stages', scopes: ['deploy:prod'] });
  const [n] = pendingNotices(filed, facts(), 'https://jitgate.example');
  assert.equal(n!.reason, 'submitted');
  assert.equal(n!.stage, 0);
  assert.deepEqual(n!.approvers, ['sre-leads']);
  assert.equal(n!.request.link, 'https://jitgate.example/api/v1/requests/req_p');
  assert.equal(n!.request.expires_at, new Date((1_800_000_000 + 3600) * 1000).toISOString());

  const escalated = tick(opened.state, 1_800_000_000 + 900);
  assert.equal(escalated.effects[0]!.type, 'request.escalated');
  const [e] = pendingNotices(ev('request.escalated', TUE_10, 'user:alice', { requestId: 'req_p', stage: 0, to: ['security'] }, null), facts(escalated.state), 'https://jitgate.example');
  assert.equal(e!.reason, 'escalated');
  assert.deepEqual(e!.approvers, ['sre-leads', 'security']);

  const step = approve(opened.state, { by: 'user:carol', byGroups: ['sre-leads'], at: 1_800_000_100 });
  assert.ok(step.ok);
  const [next] = pendingNotices(ev('request.stage_approved', TUE_10, 'user:alice', { requestId: 'req_p', stage: 0, by: 'user:carol' }, 'user:carol'), facts(step.state), 'https://jitgate.example');
  assert.equal(next!.reason, 'next_stage');
  assert.deepEqual(next!.approvers, ['security']);

  // Nobody is asked about a request that moved on or was decided meanwhile, or never waited.
  assert.deepEqual(pendingNotices(filed, facts(step.state), 'https://jitgate.example'), []);
  const done = approve(step.state, { by: 'user:dave', byGroups: ['security'], at: 1_800_000_200 });
  assert.ok(done.ok);
  assert.deepEqual(pendingNotices(ev('request.stage_approved', TUE_10, 'user:alice', { requestId: 'req_p', stage: 1 }), facts(done.state), 'https://jitgate.example'), []);
  assert.deepEqual(pendingNotices(ev('request.created', TUE_10, 'user:alice', { requestId: 'req_p', outcome: 'approve' }), facts(), 'https://jitgate.example'), []);
  assert.deepEqual(pendingNotices(filed, {}, 'https://jitgate.example'), [], 'without the stored request, no notice');
});

test('subscriptions: a webhook gets what it names; "*" means every alert kind but not approver notices', () => {
  const hooks = policy.webhooks;
  const urls = (event: Parameters<typeof webhooksFor>[1]) => webhooksFor(hooks, event).map((w) => new URL(w.url).pathname);
  assert.deepEqual(urls('break_glass'), ['/all', '/slack']);
  assert.deepEqual(urls('denial_burst'), ['/all']);
  assert.deepEqual(urls('revoked_token_use'), ['/all', '/unset-secret']);
  assert.deepEqual(urls('request.pending'), ['/approvers']);
});
