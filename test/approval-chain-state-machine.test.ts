import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../src/access/events.js';
import {
  DEFAULT_REQUEST_TTL_S,
  approve,
  cancel,
  currentDeciders,
  deny,
  openRequest,
  tick,
  type RequestState,
  type Transition,
} from '../src/access/request-machine.js';
import { NO_HISTORY, decide, type Decision } from '../src/policy/decide.js';
import type { Policy } from '../src/policy/types.js';
import { MONDAY_10_BERLIN, accessPolicy, accessPolicyWithRules } from './fixtures/access-policy.js';

const policy = accessPolicy();
const T0 = MONDAY_10_BERLIN;
const MIN = 60;

/** The policy's decision on `principal` asking for deploy:prod for 30 minutes. */
function decisionFor(p: Policy, principal: string, scopes = ['deploy:prod']): Decision {
  return decide(
    p,
    { principal, scopes, resource: 'https://deploy.internal', durationS: 1800, reason: 'ship the hotfix now', ticket: 'INC-1', context: {} },
    { epochMs: T0 * 1000 },
    NO_HISTORY,
  );
}

/** A pending request by carol (an sre-lead herself) under the two-stage production rule. */
function carolsRequest(p: Policy = policy, startsAt: number | null = null): RequestState {
  const decision = decisionFor(p, 'user:carol');
  assert.equal(decision.outcome, 'stages');
  return openRequest({ id: 'req-1', requester: 'user:carol', decision, durationS: 1800, startsAt, at: T0 }).state;
}

const groupsOf = (p: Policy, who: string) => p.groupsOf.get(who) ?? [];

function approveBy(state: RequestState, by: string, at: number, p: Policy = policy, comment?: string) {
  return approve(state, { by, byGroups: groupsOf(p, by), at, comment: comment ?? null });
}

function ok<T extends Transition<any>>(t: T): Extract<T, { ok: true }> {
  assert.equal(t.ok, true, `expected success, got ${JSON.stringify(t)}`);
  return t as Extract<T, { ok: true }>;
}

function refused(t: Transition<any>, code: string, status: number): string {
  assert.equal(t.ok, false, `expected refusal ${code}, got success`);
  const r = t as Extract<Transition, { ok: false }>;
  assert.equal(r.code, code, r.message);
  assert.equal(r.status, status);
  return r.message;
}

const types = (effects: readonly DomainEvent[]) => effects.map((e) => e.type);

describe('opening a request', () => {
  test('a stages decision leaves the request pending at its first stage, the others waiting', () => {
    const { state, effects } = openRequest({
      id: 'req-1',
      requester: 'user:carol',
      decision: decisionFor(policy, 'user:carol'),
      durationS: 1800,
      startsAt: null,
      at: T0,
    });
    assert.equal(state.status, 'pending');
    assert.equal(state.current, 0);
    assert.equal(state.expiresAt, T0 + DEFAULT_REQUEST_TTL_S);
    assert.deepEqual(
      state.stages.map((s) => [s.status, s.activatedAt, s.approvers, s.count, s.timeoutS, s.escalateTo]),
      [
        ['active', T0, ['sre-leads'], 1, 900, ['security']],
        ['waiting', null, ['security'], 1, 1800, []],
      ],
    );
    assert.deepEqual(types(effects), ['request.created']);
    assert.equal((effects[0] as Extract<DomainEvent, { type: 'request.created' }>).policyHash, policy.hash);
  });

  test('approve grants at once; deny denies with the decision\'s message; break-glass is approved and marked', () => {
    const approved = openRequest({ id: 'a', requester: 'user:alice', decision: decisionFor(policy, 'user:alice', ['read:logs']), durationS: 600, startsAt: null, at: T0 });
    assert.equal(approved.state.status, 'approved');
    assert.deepEqual(approved.state.grant, { startsAt: T0, endsAt: T0 + 600 });
    assert.deepEqual(types(approved.effects), ['request.created', 'request.approved']);

    const denied = openRequest({ id: 'd', requester: 'user:alice', decision: decisionFor(policy, 'user:alice', ['read:audit']), durationS: 600, startsAt: null, at: T0 });
    assert.equal(denied.state.status, 'denied');
    const event = denied.effects[1] as Extract<DomainEvent, { type: 'request.denied' }>;
    assert.equal(event.by, null);
    assert.match(event.reason, /no rule matched/);

    const bg: Decision = { rule: 'emergency', outcome: 'break_glass', stages: null, message: 'break-glass', policy_hash: policy.hash };
    const glass = openRequest({ id: 'b', requester: 'user:bob', decision: bg, durationS: 900, startsAt: null, at: T0 });
    assert.equal(glass.state.status, 'approved');
    assert.equal(glass.state.breakGlass, true);
    assert.equal((glass.effects[1] as Extract<DomainEvent, { type: 'request.approved' }>).breakGlass, true);
  });
});

describe('who may approve', () => {
  test('nobody approves their own request, even as a member of the approver group', () => {
    const state = carolsRequest();
    assert.ok(groupsOf(policy, 'user:carol').includes('sre-leads'));
    refused(approveBy(state, 'user:carol', T0 + MIN), 'self_approval', 403);
    refused(deny(state, { by: 'user:carol', byGroups: groupsOf(policy, 'user:carol'), at: T0 + MIN, reason: 'changed my mind' }), 'self_approval', 403);
  });

  test('someone outside the current stage\'s approver groups is refused', () => {
    const state = carolsRequest();
    const message = refused(approveBy(state, 'user:bob', T0 + MIN), 'not_an_approver', 403);
    assert.match(message, /sre-leads/);
    // dave is in security: the next stage's group and the escalation target, not yet an approver of stage 1.
    refused(approveBy(state, 'user:dave', T0 + MIN), 'not_an_approver', 403);
    refused(deny(state, { by: 'user:bob', byGroups: groupsOf(policy, 'user:bob'), at: T0 + MIN, reason: 'no' }), 'not_an_approver', 403);
  });

  test('a chain runs stage by stage, and the grant window starts at the final approval', () => {
    const s0 = carolsRequest();
    const first = ok(approveBy(s0, 'user:frank', T0 + 5 * MIN, policy, ' looks right '));
    assert.deepEqual(types(first.effects), ['request.stage_approved']);
    assert.equal(first.state.status, 'pending');
    assert.equal(first.state.current, 1);
    assert.deepEqual(first.state.stages[0]!.approvals, [{ by: 'user:frank', at: T0 + 5 * MIN, comment: 'looks right' }]);
    assert.deepEqual([first.state.stages[0]!.status, first.state.stages[1]!.status], ['approved', 'active']);
    assert.equal(first.state.stages[1]!.activatedAt, T0 + 5 * MIN);

    const second = ok(approveBy(first.state, 'user:dave', T0 + 20 * MIN));
    assert.deepEqual(types(second.effects), ['request.stage_approved', 'request.approved']);
    assert.equal(second.state.status, 'approved');
    assert.equal(second.state.decidedAt, T0 + 20 * MIN);
    assert.deepEqual(second.state.grant, { startsAt: T0 + 20 * MIN, endsAt: T0 + 20 * MIN + 1800 });
    const approved = second.effects[1] as Extract<DomainEvent, { type: 'request.approved' }>;
    assert.deepEqual([approved.by, approved.grant], ['user:dave', second.state.grant]);
  });

  test('one person approves at most once in a chain, even when in the next stage\'s group too', () => {
    const first = ok(approveBy(carolsRequest(), 'user:frank', T0 + MIN));
    assert.ok(groupsOf(policy, 'user:frank').includes('security'));
    refused(approveBy(first.state, 'user:frank', T0 + 2 * MIN), 'already_approved', 409);
    assert.equal(ok(approveBy(first.state, 'user:grace', T0 + 3 * MIN)).state.status, 'approved');
  });

  test('count 2 needs two distinct approvers', () => {
    const two = accessPolicyWithRules(`
  - name: two of security
    match: { scopes: [deploy:prod] }
    stages:
      - { approvers: [security], count: 2 }
`);
    const s0 = carolsRequest(two);
    const one = ok(approveBy(s0, 'user:dave', T0 + MIN, two));
    assert.deepEqual(types(one.effects), ['request.approval_recorded']);
    assert.equal((one.effects[0] as Extract<DomainEvent, { type: 'request.approval_recorded' }>).remaining, 1);
    assert.equal(one.state.status, 'pending');
    refused(approveBy(one.state, 'user:dave', T0 + 2 * MIN, two), 'already_approved', 409);
    const done = ok(approveBy(one.state, 'user:grace', T0 + 3 * MIN, two));
    assert.equal(done.state.status, 'approved');
    assert.deepEqual(done.state.stages[0]!.approvals.map((a) => a.by), ['user:dave', 'user:grace']);
  });
});

describe('time: escalation and expiry', () => {
  test('after the stage timeout the escalation group may approve, and `escalated` is emitted once', () => {
    const s0 = carolsRequest();
    const due = T0 + 15 * MIN;
    refused(approveBy(s0, 'user:dave', due - 1), 'not_an_approver', 403);
    assert.deepEqual(tick(s0, due - 1).effects, []);

    const t = tick(s0, due + 30);
    assert.deepEqual(t.effects, [{ type: 'request.escalated', requestId: 'req-1', at: due, stage: 0, to: ['security'] }]);
    assert.equal(t.state.stages[0]!.escalated, true);
    assert.deepEqual(currentDeciders(t.state), ['sre-leads', 'security']);
    assert.deepEqual(tick(t.state, due + 60).effects, [], 'escalation is emitted once');

    const approved = ok(approveBy(t.state, 'user:dave', due + 90));
    assert.deepEqual(types(approved.effects), ['request.stage_approved']);
    // The original approvers keep their say after escalation.
    assert.equal(ok(approveBy(t.state, 'user:frank', due + 90)).state.current, 1);
  });

  test('an approval after the timeout escalates on the way, without a prior tick', () => {
    const r = ok(approveBy(carolsRequest(), 'user:dave', T0 + 20 * MIN));
    assert.deepEqual(types(r.effects), ['request.escalated', 'request.stage_approved']);
    assert.equal(r.effects[0]!.at, T0 + 15 * MIN);
  });

  test('a stage that has not timed out when the next one starts keeps its own clock', () => {
    const first = ok(approveBy(carolsRequest(), 'user:frank', T0 + 50 * MIN));
    // Stage 2 has a 30m timeout but no escalate_to: nothing to escalate to, it just waits.
    assert.deepEqual(tick(first.state, T0 + 59 * MIN).effects, []);
  });

  test('a request still pending after its TTL expires, and is then a conflict for everyone', () => {
    const s0 = carolsRequest();
    const end = T0 + DEFAULT_REQUEST_TTL_S;
    assert.equal(tick(s0, end - 1).state.status, 'pending');
    const t = tick(s0, end + 500);
    assert.equal(t.state.status, 'expired');
    assert.deepEqual(types(t.effects), ['request.escalated', 'request.expired']);
    assert.equal(t.effects[1]!.at, end);
    assert.deepEqual(tick(t.state, end + 600).effects, []);
    refused(approveBy(t.state, 'user:frank', end + 1), 'not_pending', 409);
    // Without a prior tick the commands see the expiry too.
    assert.match(refused(approveBy(s0, 'user:frank', end), 'not_pending', 409), /expired/);
    refused(cancel(s0, { by: 'user:carol', at: end }), 'not_pending', 409);
  });

  test('the TTL is passed in', () => {
    const state = openRequest({ id: 'r', requester: 'user:carol', decision: decisionFor(policy, 'user:carol'), durationS: 60, startsAt: null, at: T0, ttlS: 120 }).state;
    assert.equal(tick(state, T0 + 120).state.status, 'expired');
  });
});

describe('denial, cancellation, conflicts', () => {
  test('one denial denies the request', () => {
    const first = ok(approveBy(carolsRequest(), 'user:frank', T0 + MIN));
    const d = ok(deny(first.state, { by: 'user:dave', byGroups: groupsOf(policy, 'user:dave'), at: T0 + 2 * MIN, reason: ' not during the freeze ' }));
    assert.equal(d.state.status, 'denied');
    assert.equal(d.state.stages[1]!.status, 'denied');
    assert.deepEqual(d.effects, [{ type: 'request.denied', requestId: 'req-1', at: T0 + 2 * MIN, by: 'user:dave', stage: 1, reason: 'not during the freeze' }]);
    refused(approveBy(d.state, 'user:grace', T0 + 3 * MIN), 'not_pending', 409);
    refused(deny(d.state, { by: 'user:grace', byGroups: groupsOf(policy, 'user:grace'), at: T0 + 3 * MIN, reason: 'also no' }), 'not_pending', 409);
  });

  test('a denial needs a reason', () => {
    refused(deny(carolsRequest(), { by: 'user:frank', byGroups: groupsOf(policy, 'user:frank'), at: T0 + MIN, reason: '  ' }), 'reason_required', 422);
  });

  test('only the requester cancels, and only a pending request', () => {
    const s0 = carolsRequest();
    refused(cancel(s0, { by: 'user:frank', at: T0 + MIN }), 'not_requester', 403);
    const c = ok(cancel(s0, { by: 'user:carol', at: T0 + MIN }));
    assert.equal(c.state.status, 'cancelled');
    assert.deepEqual(types(c.effects), ['request.cancelled']);
    refused(cancel(c.state, { by: 'user:carol', at: T0 + 2 * MIN }), 'not_pending', 409);
    refused(approveBy(c.state, 'user:frank', T0 + 2 * MIN), 'not_pending', 409);
    const approved = ok(approveBy(ok(approveBy(s0, 'user:frank', T0 + MIN)).state, 'user:dave', T0 + 2 * MIN)).state;
    refused(cancel(approved, { by: 'user:carol', at: T0 + 3 * MIN }), 'not_pending', 409);
    refused(approveBy(approved, 'user:grace', T0 + 3 * MIN), 'not_pending', 409);
  });

  test('commands never change the state they are given', () => {
    const s0 = carolsRequest();
    const before = structuredClone(s0);
    ok(approveBy(s0, 'user:frank', T0 + 20 * MIN));
    tick(s0, T0 + 2 * DEFAULT_REQUEST_TTL_S);
    ok(deny(s0, { by: 'user:frank', byGroups: groupsOf(policy, 'user:frank'), at: T0 + MIN, reason: 'no thanks' }));
    ok(cancel(s0, { by: 'user:carol', at: T0 + MIN }));
    assert.deepEqual(s0, before);
  });
});

describe('scheduled access', () => {
  test('the grant starts at starts_at when that is after the approval, else at the approval', () => {
    const start = T0 + 2 * 3600;
    const early = ok(approveBy(ok(approveBy(carolsRequest(policy, start), 'user:frank', T0 + MIN)).state, 'user:dave', T0 + 2 * MIN));
    assert.deepEqual(early.state.grant, { startsAt: start, endsAt: start + 1800 });
    const soon = T0 + 3 * MIN;
    const late = ok(approveBy(ok(approveBy(carolsRequest(policy, soon), 'user:frank', T0 + MIN)).state, 'user:dave', T0 + 10 * MIN));
    assert.deepEqual(late.state.grant, { startsAt: T0 + 10 * MIN, endsAt: T0 + 10 * MIN + 1800 });
  });
});
