import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { FIXTURE_POLICY } from './helpers/server.js';
import { useElevationServer, assertProblem, claimsOf, type ApiResponse } from './helpers/elevation.js';
import { MFA_ACR } from '../src/identity/mfa.js';

const ENGINEERS = 'engineers: { members: [user:alice, user:bob], baseline: [read:logs], eligible: [deploy:prod, incident-response] }';

forEachDatabase('MFA step-up (RFC 9470) and the life of elevated tokens', (open) => {
  const h = useElevationServer(open);

  const deploy = (duration = '30m') =>
    h.api('alice', 'POST', '/requests', { scopes: ['deploy:prod'], duration, reason: 'roll out the payment fix to production', ticket: 'OPS-42' });
  const assertStepUp = (res: ApiResponse, what: string) => {
    assertProblem(res, 401, 'insufficient_user_authentication', what);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer error="insufficient_user_authentication"/, `${what}: ${challenge}`);
    assert.match(challenge, new RegExp(`acr_values="${MFA_ACR}"`), what);
    assert.match(challenge, /max_age="900"/, what);
    assert.equal(res.body.acr_values, MFA_ACR);
    assert.equal(res.body.max_age, 900);
  };
  /** A deploy:prod request of alice's, approved by carol and dave with fresh MFA. */
  const approvedDeploy = async (duration: string) => {
    await h.login('alice');
    const r = await deploy(duration);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await h.login('carol');
    await h.login('dave');
    assert.equal((await h.api('carol', 'POST', `/requests/${r.body.id}/approve`, {})).status, 200);
    const done = await h.api('dave', 'POST', `/requests/${r.body.id}/approve`, {});
    assert.equal(done.body.status, 'approved', JSON.stringify(done.body));
    return done.body.grant as { id: string; starts_at: string; ends_at: string };
  };

  test('asking for an MFA scope without MFA, or with MFA older than 15 minutes, is a step-up challenge; fresh MFA succeeds', async () => {
    await h.login('alice', { mfa: false });
    let before = await h.counts();
    assertStepUp(await deploy(), 'password only');
    assert.deepEqual(await h.counts(), before, 'a challenge writes nothing');
    await h.login('alice', { authAgeS: 901 });
    before = await h.counts();
    assertStepUp(await deploy(), 'MFA 15 minutes and 1 second ago');
    assert.deepEqual(await h.counts(), before, 'a challenge writes nothing');

    await h.login('alice', { authAgeS: 900 });
    const ok = await deploy();
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'pending');
  });

  test('an approver without fresh MFA approving an MFA scope gets the same challenge, and the approval is not recorded', async () => {
    await h.login('alice');
    const r = await deploy();
    assert.equal(r.status, 201);

    await h.login('carol', { mfa: false });
    let before = await h.counts();
    assertStepUp(await h.api('carol', 'POST', `/requests/${r.body.id}/approve`, { comment: 'looks right' }), 'approver without MFA');
    assert.deepEqual(await h.counts(), before);
    await h.login('carol', { authAgeS: 16 * 60 });
    before = await h.counts();
    assertStepUp(await h.api('carol', 'POST', `/requests/${r.body.id}/approve`, {}), 'approver with stale MFA');
    assert.deepEqual(await h.counts(), before);
    assert.deepEqual((await h.api('alice', 'GET', `/requests/${r.body.id}`)).body.stages[0].approvals, []);

    await h.login('carol');
    const ok = await h.api('carol', 'POST', `/requests/${r.body.id}/approve`, { comment: 'looks right' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.stages[0].approvals[0].by, 'user:carol');
  });

  test('an elevated token has no refresh_token and never outlives its grant, even when the grant ends before 15 minutes', async () => {
    const grant = await approvedDeploy('10m');
    const endsAt = Date.parse(grant.ends_at) / 1000;
    assert.equal(endsAt, h.nowS() + 600);

    const ex = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    assert.equal(ex.body.refresh_token, undefined);
    assert.equal(ex.body.expires_in, 600);
    const claims = claimsOf(ex.body.access_token);
    assert.equal(claims.exp, endsAt, 'cut to the grant end, not iat + 900');
    assert.equal(claims.grant, grant.id);
    assert.deepEqual(claims.amr, ['pwd', 'otp'], 'the sign-in facts travel with it');

    h.clock.advance(9 * 60);
    const late = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(late.status, 200, JSON.stringify(late.body));
    assert.equal(late.body.expires_in, 60);
    assert.equal(claimsOf(late.body.access_token).exp, endsAt);
    assert.equal(late.body.refresh_token, undefined);

    // The second the grant ends, introspection says inactive.
    h.clock.set((endsAt - 1) * 1000);
    assert.equal((await h.introspect(ex.body.access_token)).active, true);
    assert.equal((await h.introspect(late.body.access_token)).active, true);
    h.clock.set(endsAt * 1000);
    assert.deepEqual(await h.introspect(ex.body.access_token), { active: false });
    assert.deepEqual(await h.introspect(late.body.access_token), { active: false });
  });

  test('a 30-minute grant gives tokens of at most 15 minutes, and a refresh grant cannot extend them', async () => {
    const grant = await approvedDeploy('30m');
    const ex = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    assert.equal(ex.body.expires_in, 900);
    const claims = claimsOf(ex.body.access_token);
    assert.ok(claims.exp <= Date.parse(grant.ends_at) / 1000);
    assert.equal(ex.body.refresh_token, undefined);
  });

  test('a policy reload that takes the scope out of the group’s eligible makes the elevated token inactive at once', async () => {
    const grant = await approvedDeploy('30m');
    const ex = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    const elevated = ex.body.access_token as string;
    assert.equal((await h.introspect(elevated)).active, true);
    assert.ok((await h.api('alice', 'GET', '/me')).body.eligible.scopes.includes('deploy:prod'));

    assert.ok(FIXTURE_POLICY.includes(ENGINEERS));
    await h.srv.rewritePolicy(FIXTURE_POLICY.replace(ENGINEERS, 'engineers: { members: [user:alice, user:bob], baseline: [read:logs], eligible: [] }'));

    assert.deepEqual(await h.introspect(elevated), { active: false }, 'no clock movement needed');
    const again = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(again.body.error, 'invalid_scope');
    // Her baseline token still works; the grant itself is still in its window.
    const me = await h.api('alice', 'GET', '/me');
    assert.equal(me.status, 200);
    assert.ok(!me.body.eligible.scopes.includes('deploy:prod'));
    assert.equal((await h.api('alice', 'GET', '/grants')).body.items.find((g: any) => g.id === grant.id).status, 'active');
    assertProblem(await deploy(), 403, 'not_eligible');
  });
});
