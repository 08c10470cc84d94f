import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_HISTORY, decide, type DecisionFacts, type History } from '../src/policy/decide.js';
import type { Policy } from '../src/policy/types.js';
import { policyFrom } from './fixtures/access-policy.js';

const BASE = `
version: 1
timezone: Europe/Berlin
business_hours: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00" }
scopes:
  read:logs:     { risk: low }
  read:billing:  { risk: medium, max_ttl: 8h }
  deploy:prod:   { risk: high, max_ttl: 1h, ticket: "^(OPS|INC)-[0-9]+$" }
  admin:billing: { risk: critical, max_ttl: 30m }
resources:
  - audience: https://billing.internal
    scopes: [read:logs, read:billing, admin:billing]
  - audience: https://deploy.internal
    scopes: [read:logs, deploy:prod]
groups:
  engineers: { members: [user:alice, user:bob], eligible: [deploy:prod, read:billing, read:logs] }
  sre-leads: { members: [user:carol], eligible: [deploy:prod] }
  security:  { members: [user:dave] }
clients:
  ci-pipeline:
    secret_sha256: "3941550bada325f25c73b171171a1fd5e1994039a5288d51e94f4354e438aa3c"
    eligible: [deploy:prod]
`;

function policyWith(rules: string, defaultDecision: 'approve' | 'deny' = 'deny'): Policy {
  return policyFrom(`${BASE}rules:\n${rules}\ndefault_decision: ${defaultDecision}\n`);
}

/** 10:00 on Monday 2 March 2026 in Berlin (UTC+1). */
const MONDAY_10 = { epochMs: Date.UTC(2026, 2, 2, 9, 0) };

function facts(over: Partial<DecisionFacts> = {}): DecisionFacts {
  return {
    principal: 'user:alice',
    scopes: ['deploy:prod'],
    resource: 'https://deploy.internal',
    durationS: 1800,
    reason: 'roll out the billing hotfix',
    ticket: 'INC-7',
    context: {},
    ...over,
  };
}

function run(policy: Policy, f: Partial<DecisionFacts> = {}, now = MONDAY_10, history: History = NO_HISTORY) {
  return decide(policy, facts(f), now, history);
}

describe('first match decides', () => {
  const rules = `
  - name: no deploys
    match: { scopes: [deploy:prod] }
    decision: deny
  - name: deploys are fine
    match: { scopes: [deploy:prod] }
    decision: approve
`;

  test('the first of two matching rules decides, and the decision records its name and the policy hash', () => {
    const policy = policyWith(rules);
    const d = run(policy);
    assert.equal(d.outcome, 'deny');
    assert.equal(d.rule, 'no deploys');
    assert.equal(d.policy_hash, policy.hash);
    assert.match(d.message, /denied by rule "no deploys"/);
    assert.equal(d.condition_error, undefined);
  });

  test('the same rules in the other order decide the other way, under another hash', () => {
    const first = policyWith(rules);
    const swapped = policyWith(`
  - name: deploys are fine
    match: { scopes: [deploy:prod] }
    decision: approve
  - name: no deploys
    match: { scopes: [deploy:prod] }
    decision: deny
`);
    const d = run(swapped);
    assert.equal(d.outcome, 'approve');
    assert.equal(d.rule, 'deploys are fine');
    assert.notEqual(d.policy_hash, first.hash);
    assert.equal(d.policy_hash, swapped.hash);
  });

  test('when nothing matches, default_decision applies and no rule is named', () => {
    const onlyBilling = `
  - name: billing
    match: { scopes: [admin:billing] }
    decision: approve
`;
    const deny = run(policyWith(onlyBilling, 'deny'));
    assert.deepEqual([deny.outcome, deny.rule], ['deny', null]);
    assert.match(deny.message, /no rule matched/);
    const approve = run(policyWith(onlyBilling, 'approve'));
    assert.deepEqual([approve.outcome, approve.rule], ['approve', null]);
  });

  test('stages and break_glass outcomes carry what they need', () => {
    const policy = policyWith(`
  - name: emergency
    match: { principals: [user:bob] }
    decision: break_glass
  - name: chain
    match: { scopes: [deploy:prod] }
    stages:
      - { approvers: [sre-leads], count: 1, timeout: 15m, escalate_to: [security] }
      - { approvers: [security], count: 2 }
`);
    const bg = run(policy, { principal: 'user:bob' });
    assert.equal(bg.outcome, 'break_glass');
    assert.equal(bg.stages, null);
    const chain = run(policy);
    assert.equal(chain.outcome, 'stages');
    assert.equal(chain.rule, 'chain');
    assert.deepEqual(chain.stages, [
      { approvers: ['sre-leads'], count: 1, timeoutS: 900, escalateTo: ['security'] },
      { approvers: ['security'], count: 2, timeoutS: null, escalateTo: [] },
    ]);
    assert.match(chain.message, /1 approval from sre-leads, then 2 approvals from security/);
  });
});

describe('match fields', () => {
  test('principals names the requester', () => {
    const policy = policyWith(`
  - name: ci
    match: { principals: [client:ci-pipeline] }
    decision: approve
`);
    assert.equal(run(policy, { principal: 'client:ci-pipeline' }).rule, 'ci');
    assert.equal(run(policy, { principal: 'user:alice' }).rule, null);
  });

  test('groups matches a member of any listed group', () => {
    const policy = policyWith(`
  - name: leads
    match: { groups: [security, sre-leads] }
    decision: approve
`);
    assert.equal(run(policy, { principal: 'user:carol' }).rule, 'leads');
    assert.equal(run(policy, { principal: 'user:alice' }).rule, null);
  });

  test('scopes matches when ANY requested scope is listed', () => {
    const policy = policyWith(`
  - name: deploys
    match: { scopes: [deploy:prod] }
    decision: deny
`, 'approve');
    assert.equal(run(policy, { scopes: ['read:logs', 'deploy:prod'] }).rule, 'deploys');
    assert.equal(run(policy, { scopes: ['read:logs'] }).rule, null);
  });

  test('risk matches the highest risk among the requested scopes', () => {
    const policy = policyWith(`
  - name: low risk is automatic
    match: { risk: [low] }
    decision: approve
`);
    assert.equal(run(policy, { scopes: ['read:logs'] }).outcome, 'approve');
    const mixed = run(policy, { scopes: ['read:logs', 'deploy:prod'] });
    assert.equal(mixed.outcome, 'deny', 'a low-risk scope must not carry a high-risk one through');
    assert.equal(mixed.rule, null);
  });

  test('every field given must hold', () => {
    const policy = policyWith(`
  - name: engineers deploying
    match: { groups: [engineers], scopes: [deploy:prod], risk: [high] }
    decision: approve
`);
    assert.equal(run(policy).rule, 'engineers deploying');
    assert.equal(run(policy, { principal: 'user:carol' }).rule, null);
    assert.equal(run(policy, { scopes: ['read:billing'] }).rule, null);
  });
});

describe('conditions see request and now', () => {
  test('request.* variables', () => {
    const policy = policyWith(`
  - name: everything
    when: >-
      request.principal == "user:alice" && "engineers" in request.groups &&
      "deploy:prod" in request.scopes && request.max_risk == "high" &&
      request.duration_s <= 1800 && request.duration_s / 60 == 30 &&
      request.ticket.startsWith("INC") && request.resource == "https://deploy.internal" &&
      request.reason.size() > 10 && request.context.pr == 42.0
    decision: approve
`);
    assert.equal(run(policy, { context: { pr: 42 } }).outcome, 'approve');
    assert.equal(run(policy, { context: { pr: 42 }, durationS: 1801 }).outcome, 'deny');
    assert.equal(run(policy, { context: { pr: 41 } }).outcome, 'deny');
  });

  test('now.* is the wall clock in the policy\'s time zone, daylight saving included', () => {
    const policy = policyWith(`
  - name: office hours
    when: now.business_hours && now.weekday == "mon"
    decision: approve
  - name: exact time
    when: now.hour == 20 && now.minute == 30 && !now.business_hours
    decision: break_glass
`);
    assert.equal(run(policy).outcome, 'approve'); // Mon 10:00 CET
    assert.equal(run(policy, {}, { epochMs: Date.UTC(2026, 2, 2, 19, 30) }).outcome, 'break_glass'); // Mon 20:30 CET
    assert.equal(run(policy, {}, { epochMs: Date.UTC(2026, 6, 6, 6, 30) }).outcome, 'approve'); // Mon 08:30 CEST
    assert.equal(run(policy, {}, { epochMs: Date.UTC(2026, 6, 6, 5, 30) }).outcome, 'deny'); // Mon 07:30 CEST
    assert.equal(run(policy, {}, { epochMs: Date.UTC(2026, 2, 3, 9, 0) }).outcome, 'deny'); // Tuesday
  });
});

describe('history', () => {
  const policy = policyWith(`
  - name: first time needs a person
    match: { scopes: [deploy:prod] }
    when: history.first_time
    decision: deny
  - name: regulars
    when: history.times_held["deploy:prod"] >= 3
    decision: approve
`);

  test('first_time holds when the principal never held any requested scope', () => {
    const d = run(policy, {}, MONDAY_10, { timesHeld: new Map([['read:logs', 9]]) });
    assert.equal(d.rule, 'first time needs a person');
    assert.equal(d.condition_error, undefined);
  });

  test('times_held counts grants per scope, 0 for a requested scope never held', () => {
    assert.equal(run(policy, {}, MONDAY_10, { timesHeld: new Map([['deploy:prod', 3]]) }).rule, 'regulars');
    const twice = run(policy, {}, MONDAY_10, { timesHeld: new Map([['deploy:prod', 2]]) });
    assert.deepEqual([twice.rule, twice.condition_error], [null, undefined]);
  });
});

describe('a condition that cannot be evaluated never widens access', () => {
  const approveOnMain = `
  - name: ci deploys from main
    match: { principals: [client:ci-pipeline] }
    when: 'request.context.branch == "main"'
    decision: approve
`;

  test('an approve rule whose condition fails does not match, and the decision says which condition failed and why', () => {
    const policy = policyWith(approveOnMain);
    assert.equal(run(policy, { principal: 'client:ci-pipeline', context: { branch: 'main' } }).outcome, 'approve');
    const plain = run(policy, { principal: 'client:ci-pipeline', context: { branch: 'dev' } });
    assert.deepEqual([plain.outcome, plain.condition_error], ['deny', undefined]);

    const d = run(policy, { principal: 'client:ci-pipeline', context: {} });
    assert.equal(d.outcome, 'deny');
    assert.equal(d.rule, null);
    assert.match(d.condition_error ?? '', /rule "ci deploys from main"/);
    assert.match(d.condition_error ?? '', /request\.context\.branch == "main"/);
    assert.match(d.condition_error ?? '', /No such key: branch/);
    assert.match(d.message, /No such key: branch/);
  });

  test('a later rule may still approve; the skipped condition is reported', () => {
    const policy = policyWith(`${approveOnMain}
  - name: anything else is fine
    decision: approve
`);
    const d = run(policy, { principal: 'client:ci-pipeline', context: {} });
    assert.equal(d.rule, 'anything else is fine');
    assert.match(d.message, /ci deploys from main/);
    assert.match(d.condition_error ?? '', /No such key/);
  });

  test('a deny rule whose condition fails matches', () => {
    const policy = policyWith(`
  - name: only from main
    when: 'request.context.branch != "main"'
    decision: deny
  - name: otherwise fine
    decision: approve
`);
    const d = run(policy, { context: {} });
    assert.equal(d.outcome, 'deny');
    assert.equal(d.rule, 'only from main');
    assert.match(d.message, /could not be evaluated/);
    assert.match(d.condition_error ?? '', /No such key: branch/);
    assert.equal(run(policy, { context: { branch: 'main' } }).outcome, 'approve');
  });

  test('a stages rule whose condition fails denies', () => {
    const policy = policyWith(`
  - name: chain when flagged
    when: request.context.flagged
    stages:
      - { approvers: [security] }
  - name: otherwise fine
    decision: approve
`);
    const d = run(policy, { context: {} });
    assert.deepEqual([d.outcome, d.rule, d.stages], ['deny', 'chain when flagged', null]);
    assert.match(d.condition_error ?? '', /No such key: flagged/);
    assert.equal(run(policy, { context: { flagged: true } }).outcome, 'stages');
  });

  test('a break_glass rule whose condition fails does not match', () => {
    const policy = policyWith(`
  - name: emergency
    when: request.context.incident.severity == "sev1"
    decision: break_glass
`);
    const d = run(policy, { context: { incident: {} } });
    assert.equal(d.outcome, 'deny');
    assert.match(d.condition_error ?? '', /No such key: severity/);
  });

  test('a non-boolean result and a type error are failures too', () => {
    const policy = policyWith(`
  - name: string result
    when: request.context.branch
    decision: approve
  - name: type error
    when: request.context.n + 1 > 2
    decision: approve
`);
    const d = run(policy, { context: { branch: 'main', n: 'x' } });
    assert.equal(d.outcome, 'deny');
    assert.match(d.condition_error ?? '', /rule "string result".*yields a string, not true or false/);
    assert.match(d.condition_error ?? '', /rule "type error".*overload/);
  });

  test('has() tests presence without failing', () => {
    const policy = policyWith(`
  - name: main only
    when: 'has(request.context.branch) && request.context.branch == "main"'
    decision: approve
`);
    const d = run(policy, { context: {} });
    assert.deepEqual([d.outcome, d.condition_error], ['deny', undefined]);
    assert.equal(run(policy, { context: { branch: 'main' } }).outcome, 'approve');
  });

  test('a scope the policy in force no longer knows is denied before any rule', () => {
    const policy = policyWith(`
  - name: all
    decision: approve
`);
    const d = run(policy, { scopes: ['deploy:prod', 'gone:scope'] });
    assert.deepEqual([d.outcome, d.rule], ['deny', null]);
    assert.match(d.message, /gone:scope/);
  });
});
