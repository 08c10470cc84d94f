import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { forEachDatabase } from './helpers/databases.js';
import { FIXTURE_POLICY } from './helpers/server.js';
import { useElevationServer, assertProblem, claimsOf } from './helpers/elevation.js';
import { TestBrowser, discover, signIn, insecure, CLI } from './helpers/code-flow.js';

/** The fixture policy with an operator: dave holds jitgate:admin as a standing scope. */
const POLICY = FIXTURE_POLICY.replace('  admin:billing:', '  jitgate:admin: { risk: medium }\n  admin:billing:').replace(
  '  security:  { members: [user:dave] }',
  '  security:  { members: [user:dave] }\n  operators: { members: [user:dave], baseline: [jitgate:admin] }',
);
const BOB = { username: 'bob', password: 'bob has a long enough passphrase' };

forEachDatabase('revoking a principal', (open) => {
  const h = useElevationServer(open, { policyText: POLICY });

  /** alice with a live deploy:prod grant and an elevated token under it; returns her tokens and the grant. */
  async function aliceElevated() {
    const baseline = await h.login('alice');
    await h.login('carol');
    await h.login('dave');
    const created = await h.api('alice', 'POST', '/requests', { scopes: ['deploy:prod'], duration: '30m', reason: 'roll out the payment fix to production', ticket: 'OPS-42' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await h.api('carol', 'POST', `/requests/${created.body.id}/approve`, {})).status, 200);
    const approved = await h.api('dave', 'POST', `/requests/${created.body.id}/approve`, {});
    assert.equal(approved.body.grant?.status, 'active', JSON.stringify(approved.body));
    const exchanged = await h.exchange(baseline, 'deploy:prod');
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    return { baseline, elevated: exchanged.body.access_token as string, grantId: approved.body.grant.id as string };
  }

  test('an operator ends every token and grant of a principal at once; others keep theirs; refusals change nothing', async () => {
    const { baseline, elevated, grantId } = await aliceElevated();
    const carols = h.tokens.carol!;

    // Refused: no jitgate:admin, a malformed principal, no reason, an unknown field.
    assertProblem(await h.api('carol', 'POST', '/principals/user:alice/revoke', { reason: 'not mine to do' }), 403, 'forbidden');
    assertProblem(await h.api('dave', 'POST', '/principals/alice/revoke', { reason: 'no kind' }), 400, 'principal_invalid');
    assertProblem(await h.api('dave', 'POST', '/principals/user:alice/revoke', {}), 422, 'reason_required');
    assertProblem(await h.api('dave', 'POST', '/principals/user:alice/revoke', { reason: '   ' }), 422, 'reason_required');
    assertProblem(await h.api('dave', 'POST', '/principals/user:alice/revoke', { reason: 'x', also: 1 }), 400, 'body_invalid');
    assert.equal((await h.introspect(baseline)).active, true);
    assert.equal((await h.introspect(elevated)).active, true);
    assert.equal((await h.events('principal.revoked')).length, 0);

    const done = await h.api('dave', 'POST', `/principals/${encodeURIComponent('user:alice')}/revoke`, { reason: 'laptop reported stolen' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.principal, 'user:alice');
    assert.equal(done.body.grants, 1);
    assert.ok(done.body.tokens >= 2, `tokens revoked: ${done.body.tokens}`);
    assert.equal(done.body.at, new Date(h.nowS() * 1000).toISOString());

    assert.deepEqual(await h.introspect(baseline), { active: false });
    assert.deepEqual(await h.introspect(elevated), { active: false });
    assert.equal((await h.introspect(carols)).active, true);
    const grant = await h.api('dave', 'GET', `/grants?principal=${encodeURIComponent('user:alice')}`);
    const revoked = grant.body.items.find((g: { id: string }) => g.id === grantId);
    assert.equal(revoked.status, 'revoked');

    // Audited: one event per token (the gateways' feed reads them) and per grant, and the summary with who and why.
    const tokenEvents = (await h.events('token.revoked')).filter((e) => e.subject === 'user:alice');
    const jtis = tokenEvents.map((e) => e.data.jti);
    assert.ok(jtis.includes(claimsOf(baseline).jti) && jtis.includes(claimsOf(elevated).jti));
    assert.ok(tokenEvents.every((e) => e.actor === 'user:dave' && e.data.reason === 'laptop reported stolen'));
    const grantEvents = (await h.events('grant.revoked')).filter((e) => e.data.grantId === grantId);
    assert.equal(grantEvents.length, 1);
    assert.equal(grantEvents[0]!.actor, 'user:dave');
    const [summary] = await h.events('principal.revoked');
    assert.equal(summary!.actor, 'user:dave');
    assert.equal(summary!.subject, 'user:alice');
    assert.deepEqual(summary!.data, { principal: 'user:alice', reason: 'laptop reported stolen', tokens: done.body.tokens, grants: 1, refresh_families: 0, sessions: 0 });

    // What it holds now, not what it may get: alice is still in the policy and logs in anew.
    const again = await h.login('alice');
    assert.equal((await h.introspect(again)).active, true);
    // A second revocation finds nothing left to end from before, and says so.
    const second = await h.api('dave', 'POST', '/principals/user:alice/revoke', { reason: 'once more' });
    assert.equal(second.body.grants, 0);
    assert.equal(second.body.tokens, 1);
  });

  test('a grant and tokens that have already expired are left as they ended; only what is live is revoked', async () => {
    const { baseline, elevated, grantId } = await aliceElevated();
    // Past the 30-minute grant and the 15-minute tokens: alice holds nothing from before.
    h.clock.advance(31 * 60);
    await h.login('dave');
    const fresh = await h.login('alice');

    const done = await h.api('dave', 'POST', '/principals/user:alice/revoke', { reason: 'left the company' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.grants, 0, 'an expired grant is not revoked again');
    assert.equal(done.body.tokens, 1, 'only the token issued after the advance was live');
    assert.deepEqual(await h.introspect(fresh), { active: false });
    assert.deepEqual(await h.introspect(baseline), { active: false });
    assert.deepEqual(await h.introspect(elevated), { active: false });

    const grants = await h.api('dave', 'GET', `/grants?principal=${encodeURIComponent('user:alice')}`);
    const grant = grants.body.items.find((g: { id: string }) => g.id === grantId);
    assert.equal(grant.status, 'expired', 'the grant keeps the end it had');
    assert.equal((await h.events('grant.revoked')).filter((e) => e.data.grantId === grantId).length, 0);
    // The suite's server is shared: earlier tests' events are there too, so only this test's tokens are looked for.
    const revokedJtis = (await h.events('token.revoked')).filter((e) => e.subject === 'user:alice').map((e) => e.data.jti);
    assert.ok(revokedJtis.includes(claimsOf(fresh).jti));
    assert.ok(!revokedJtis.includes(claimsOf(baseline).jti) && !revokedJtis.includes(claimsOf(elevated).jti), 'expired tokens get no revocation event');
  });

  test('removing a local user revokes its tokens, refresh tokens and login sessions in the same transaction', async () => {
    await h.srv.ctx.users.add(BOB.username, BOB.password);
    const as = await discover(h.srv.ctx.config.issuer);
    const signed = await signIn(as, new TestBrowser(h.srv.url), BOB);
    assert.ok(signed.refresh_token, 'the code flow gives a refresh token');
    assert.equal((await h.introspect(signed.access_token)).active, true);
    const db = h.srv.ctx.store.db;
    assert.ok((await db.selectFrom('login_sessions').select('principal').where('principal', '=', 'user:bob').execute()).length >= 1);

    const removed = await h.srv.ctx.users.remove(BOB.username);
    assert.equal(removed.principal, 'user:bob');
    assert.ok(removed.tokens >= 1 && removed.refresh_families === 1 && removed.sessions >= 1, JSON.stringify(removed));

    assert.deepEqual(await h.introspect(signed.access_token), { active: false });
    const refreshed = await oauth.refreshTokenGrantRequest(as, CLI, oauth.None(), signed.refresh_token!, insecure);
    assert.equal(refreshed.status, 400);
    assert.equal(((await refreshed.json()) as { error: string }).error, 'invalid_grant');
    assert.equal((await db.selectFrom('login_sessions').select('principal').where('principal', '=', 'user:bob').execute()).length, 0);
    const summary = (await h.events('principal.revoked')).find((e) => e.subject === 'user:bob');
    assert.equal(summary?.actor, null);
    assert.equal(summary?.data.reason, 'the local user was removed');
    // Nothing to remove twice, and the refusal revokes nothing: no second summary is recorded.
    await assert.rejects(h.srv.ctx.users.remove(BOB.username), (e: { code?: string }) => e.code === 'user_unknown');
    assert.equal((await h.events('principal.revoked')).filter((e) => e.subject === 'user:bob').length, 1);
  });
});
