import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { postForm, basic, SECRETS } from './helpers/server.js';
import { useElevationServer, fixturePolicy, claimsOf, EXCHANGE, ACCESS_TOKEN_TYPE } from './helpers/elevation.js';

const POLICY = fixturePolicy('elevation-rules.yaml');
const CI = basic('ci-pipeline', SECRETS['ci-pipeline']);

forEachDatabase('policy decisions through POST /api/v1/requests', (open) => {
  const h = useElevationServer(open, { policyText: POLICY });

  const deployBody = (context?: unknown) => ({
    scopes: ['deploy:prod'],
    duration: '10m',
    reason: 'ship release 4.2 from the pipeline',
    ticket: 'OPS-7',
    ...(context !== undefined ? { context } : {}),
  });
  const storedDecision = async (id: string) => {
    const row = await h.srv.ctx.store.db.selectFrom('access_requests').select(['decision', 'status', 'grant_id']).where('id', '=', id).executeTakeFirstOrThrow();
    return { ...row, decision: JSON.parse(row.decision) };
  };
  const submittedEvent = async (id: string) => {
    const found = (await h.events('request.created')).filter((e) => e.data.requestId === id);
    assert.equal(found.length, 1, `one request.created for ${id}`);
    return found[0]!;
  };
  // CI exchanges with its own client authentication, as a pipeline would.
  const ciExchange = (scope: string) =>
    postForm(`${h.srv.url}/token`, { grant_type: EXCHANGE, subject_token: h.tokens['client:ci-pipeline']!, subject_token_type: ACCESS_TOKEN_TYPE, scope }, { authorization: CI });

  test('a CI token on branch main is approved at once by the CEL rule, with an active grant it can exchange', async () => {
    await h.clientToken('ci-pipeline');
    const before = await h.counts();
    const res = await h.api('client:ci-pipeline', 'POST', '/requests', deployBody({ branch: 'main', commit: 'a1b2c3' }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const r = res.body;
    assert.equal(r.requester, 'client:ci-pipeline');
    assert.equal(r.status, 'approved');
    assert.deepEqual(r.context, { branch: 'main', commit: 'a1b2c3' });
    assert.equal(r.decision.rule, 'ci deploys from main');
    assert.equal(r.decision.outcome, 'approve');
    assert.equal(r.decision.policy_hash, h.srv.ctx.policy.current.hash);
    assert.equal(r.decision.condition_error, undefined);
    assert.deepEqual(r.stages, []);
    assert.equal(r.grant.status, 'active');
    assert.equal(Date.parse(r.grant.starts_at), h.clock.nowMs());
    assert.equal(Date.parse(r.grant.ends_at), h.clock.nowMs() + 600_000);

    const after = await h.counts();
    assert.equal(after.requests, before.requests + 1);
    assert.equal(after.grants, before.grants + 1);
    const approved = (await h.events('request.approved')).filter((e) => e.data.requestId === r.id);
    assert.equal(approved.length, 1);
    assert.equal(approved[0]!.actor, null, 'approved by the policy, not a person');

    const ex = await ciExchange('deploy:prod');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    const claims = claimsOf(ex.body.access_token);
    assert.equal(claims.sub, 'client:ci-pipeline');
    assert.equal(claims.grant, r.grant.id);
    assert.equal(claims.aud, 'https://deploy.internal');
    assert.equal((await h.introspect(ex.body.access_token)).active, true);
  });

  test('on branch dev the CEL rule is false and the next matching rule decides: approval stages', async () => {
    const res = await h.api('client:ci-pipeline', 'POST', '/requests', deployBody({ branch: 'dev' }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    assert.equal(res.body.decision.rule, 'production needs a lead, then security');
    assert.equal(res.body.decision.outcome, 'stages');
    assert.equal(res.body.decision.condition_error, undefined, 'a false condition is no failure');
    assert.deepEqual(res.body.stages.map((s: any) => s.approvers), [['sre-leads'], ['security']]);
    assert.equal(res.body.grant, null);
    assert.equal((await storedDecision(res.body.id)).grant_id, null);
  });

  test('a CEL condition on a missing context key never widens access: the approve rule does not match', async () => {
    const before = await h.counts();
    for (const context of [undefined, {}, { Branch: 'main' }]) {
      const res = await h.api('client:ci-pipeline', 'POST', '/requests', deployBody(context));
      const what = `context ${JSON.stringify(context)}: ${JSON.stringify(res.body)}`;
      assert.equal(res.status, 201, what);
      assert.equal(res.body.status, 'pending', what);
      assert.equal(res.body.decision.outcome, 'stages', what);
      assert.equal(res.body.grant, null, what);
      assert.match(res.body.decision.condition_error ?? '', /rule "ci deploys from main": condition `request\.context\.branch == "main"` could not be evaluated: .*branch/, what);
      assert.match(res.body.decision.message, /could not be evaluated/, what);
      assert.deepEqual((await storedDecision(res.body.id)).decision.condition_error, res.body.decision.condition_error);
    }
    // Values of another type compare unequal: no approval either.
    for (const context of [{ branch: null }, { branch: ['main'] }, { branch: 1 }]) {
      const res = await h.api('client:ci-pipeline', 'POST', '/requests', deployBody(context));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'pending', `context ${JSON.stringify(context)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.grant, null);
    }
    const after = await h.counts();
    assert.equal(after.requests, before.requests + 6);
    assert.equal(after.grants, before.grants, 'no grant came of any of them');

    // Only the approved request's grant covers deploy:prod; these pending ones add nothing.
    const grants = await h.srv.ctx.store.db.selectFrom('grants').select('request_id').where('principal', '=', 'client:ci-pipeline').execute();
    assert.equal(grants.length, 1);
  });

  test('a deny rule whose condition fails matches, and says which condition failed and why', async () => {
    await h.login('alice');
    const res = await h.api('alice', 'POST', '/requests', { scopes: ['read:billing'], duration: '1h', reason: 'reconcile the October invoices' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'denied');
    assert.equal(res.body.decision.rule, 'billing reads only from the EU');
    assert.equal(res.body.decision.outcome, 'deny');
    assert.match(res.body.decision.condition_error, /rule "billing reads only from the EU": condition `request\.context\.region != "eu"` could not be evaluated: .*region/);
    assert.match(res.body.decision.message, /denied by rule "billing reads only from the EU" because its condition could not be evaluated/);
    assert.equal(res.body.grant, null);

    const denied = (await h.events('request.denied')).filter((e) => e.data.requestId === res.body.id);
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.actor, null);
    assert.equal(denied[0]!.data.reason, res.body.decision.message);
  });

  test('a deny rule whose condition holds denies; when it is false the next rule approves', async () => {
    const us = await h.api('alice', 'POST', '/requests', { scopes: ['read:billing'], duration: '1h', reason: 'reconcile the October invoices', context: { region: 'us' } });
    assert.equal(us.status, 201);
    assert.equal(us.body.status, 'denied');
    assert.equal(us.body.decision.rule, 'billing reads only from the EU');
    assert.match(us.body.decision.message, /denied by rule "billing reads only from the EU" \(its condition holds: request\.context\.region != "eu"\)/);
    assert.equal(us.body.decision.condition_error, undefined);

    const eu = await h.api('alice', 'POST', '/requests', { scopes: ['read:billing'], duration: '1h', reason: 'reconcile the October invoices', context: { region: 'eu' } });
    assert.equal(eu.status, 201);
    assert.equal(eu.body.status, 'approved');
    assert.equal(eu.body.decision.rule, 'billing reads from the EU are automatic');
    assert.equal(eu.body.grant.status, 'active');
  });

  test('the default decision denies what no rule matches, and the denial says so', async () => {
    const res = await h.api('alice', 'POST', '/requests', { scopes: ['export:billing'], duration: '30m', reason: 'export the ledger for the auditors' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'denied');
    assert.equal(res.body.decision.rule, null);
    assert.equal(res.body.decision.outcome, 'deny');
    assert.match(res.body.decision.message, /no rule matched; the policy's default decision is deny/);
    assert.equal(res.body.decision.policy_hash, h.srv.ctx.policy.current.hash);

    const stored = await storedDecision(res.body.id);
    assert.equal(stored.status, 'denied');
    assert.equal(stored.decision.rule, null);
    assert.equal(stored.decision.policy_hash, h.srv.ctx.policy.current.hash);
    const submitted = await submittedEvent(res.body.id);
    assert.equal(submitted.data.outcome, 'deny');
    assert.equal(submitted.data.rule, null);
    assert.equal(submitted.data.policyHash, h.srv.ctx.policy.current.hash);

    // A policy denial is final: nothing is left to cancel or decide.
    const late = await h.api('alice', 'POST', `/requests/${res.body.id}/cancel`);
    assert.equal(late.status, 409, JSON.stringify(late.body));
    assert.equal(late.body.code, 'not_pending');
  });

  test('a rule on the wall clock: in business hours it does not deny, off-hours it does', async () => {
    const inHours = await h.api('alice', 'POST', '/requests', { scopes: ['admin:billing'], duration: '15m', reason: 'fix the broken invoice run', ticket: 'INC-12' });
    assert.equal(inHours.status, 201, JSON.stringify(inHours.body));
    assert.equal(inHours.body.status, 'pending');
    assert.equal(inHours.body.decision.rule, 'production needs a lead, then security');

    // Tuesday 20:00 in Berlin.
    h.clock.advance(10 * 3600);
    await h.login('alice');
    const offHours = await h.api('alice', 'POST', '/requests', { scopes: ['admin:billing'], duration: '15m', reason: 'fix the broken invoice run', ticket: 'INC-12' });
    assert.equal(offHours.status, 201, JSON.stringify(offHours.body));
    assert.equal(offHours.body.status, 'denied');
    assert.equal(offHours.body.decision.rule, 'billing admin only in business hours');
    assert.match(offHours.body.decision.message, /billing admin only in business hours.*!now\.business_hours/);
  });

  test('every decision records the hash of the policy in force when it was made', async () => {
    const first = await h.api('alice', 'POST', '/requests', { scopes: ['read:metrics'], duration: '5m', reason: 'check the deploy dashboards' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.decision.rule, 'low risk is automatic');
    const oldHash = h.srv.ctx.policy.current.hash;
    assert.equal(first.body.decision.policy_hash, oldHash);

    await h.srv.rewritePolicy(`${POLICY}\n# reviewed again in the change board\n`);
    const newHash = h.srv.ctx.policy.current.hash;
    assert.notEqual(newHash, oldHash);
    const second = await h.api('alice', 'POST', '/requests', { scopes: ['read:metrics'], duration: '5m', reason: 'check the deploy dashboards' });
    assert.equal(second.body.decision.policy_hash, newHash);
    assert.equal((await submittedEvent(second.body.id)).data.policyHash, newHash);

    const again = await h.api('alice', 'GET', `/requests/${first.body.id}`);
    assert.equal(again.body.decision.policy_hash, oldHash, 'an earlier decision keeps the hash that made it');
  });
});
