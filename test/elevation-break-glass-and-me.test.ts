import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { useElevationServer, fixturePolicy, assertProblem, claimsOf } from './helpers/elevation.js';

const POLICY = fixturePolicy('elevation-break-glass.yaml');
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];

forEachDatabase('break-glass review, GET /me and the request lists', (open) => {
  const h = useElevationServer(open, { policyText: POLICY });
  const ids: Record<string, string> = {};

  const loginAll = async () => {
    for (const who of PEOPLE) await h.login(who);
  };
  const file = async (who: string, body: Record<string, unknown>) => {
    const res = await h.api(who, 'POST', '/requests', { duration: '30m', reason: 'work on the incident from this morning', ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const breakGlass = (who: string) => file(who, { scopes: ['db:write'], ticket: 'INC-99' });
  const idsOf = (res: { body: { items: { id: string }[] } }) => new Set(res.body.items.map((i) => i.id));

  test('a break_glass rule grants at once; the grant carries break_glass and a pending review', async () => {
    await loginAll();
    const r = await breakGlass('erin');
    assert.equal(r.status, 'approved');
    assert.equal(r.decision.outcome, 'break_glass');
    assert.equal(r.decision.rule, 'on-call break-glass');
    assert.equal(r.grant.status, 'active');
    ids.erinGrant = r.grant.id;

    const mine = await h.api('erin', 'GET', '/grants');
    const grant = mine.body.items.find((g: any) => g.id === r.grant.id);
    assert.equal(grant.break_glass, true);
    assert.equal(grant.review, 'pending');
    assert.equal(grant.reviewed_by, null);

    const approved = (await h.events('request.approved')).filter((e) => e.data.requestId === r.id);
    assert.equal(approved.length, 1);
    assert.equal(approved[0]!.data.breakGlass, true);
    assert.equal(approved[0]!.actor, null);

    const ex = await h.exchange(h.tokens.erin!, 'db:write');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    assert.equal(claimsOf(ex.body.access_token).grant, r.grant.id);
    assert.equal(claimsOf(ex.body.access_token).aud, 'https://db.internal');

    // An ordinary approval gives an ordinary grant.
    const metrics = await file('alice', { scopes: ['read:metrics'] });
    const plain = (await h.api('alice', 'GET', '/grants')).body.items.find((g: any) => g.id === metrics.grant.id);
    assert.equal(plain.break_glass, false);
    assert.equal(plain.review, 'none');
  });

  test('GET /grants?review=pending lists break-glass grants for a jitgate:audit holder; others see only their own', async () => {
    const alice = await breakGlass('alice');
    ids.aliceGrant = alice.grant.id;

    const dave = await h.api('dave', 'GET', '/grants?review=pending');
    assert.equal(dave.status, 200);
    assert.deepEqual(idsOf(dave), new Set([ids.erinGrant, ids.aliceGrant]));
    assert.ok(dave.body.items.every((g: any) => g.break_glass === true && g.review === 'pending'));

    const own = await h.api('alice', 'GET', '/grants?review=pending');
    assert.deepEqual(idsOf(own), new Set([ids.aliceGrant]));
    assertProblem(await h.api('alice', 'GET', '/grants?principal=user:erin'), 403, 'forbidden');
    const erinsByDave = await h.api('dave', 'GET', '/grants?principal=user:erin&review=pending');
    assert.deepEqual(idsOf(erinsByDave), new Set([ids.erinGrant]));
  });

  test('review closes a break-glass grant: not by the holder, not without jitgate:audit, only once', async () => {
    const before = await h.counts();
    assertProblem(await h.api('erin', 'POST', `/grants/${ids.erinGrant}/review`, { note: 'all fine' }), 403, 'self_review');
    assertProblem(await h.api('alice', 'POST', `/grants/${ids.erinGrant}/review`, {}), 403, 'forbidden');
    assertProblem(await h.api('dave', 'POST', `/grants/${ids.erinGrant}/review`, { verdict: 'ok' }), 400, 'body_invalid');
    assert.deepEqual(await h.counts(), before);

    const done = await h.api('dave', 'POST', `/grants/${ids.erinGrant}/review`, { note: 'matches INC-99, queries look right' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.review, 'done');
    assert.equal(done.body.reviewed_by, 'user:dave');
    assert.equal(done.body.status, 'active', 'review does not end the grant');
    assertProblem(await h.api('dave', 'POST', `/grants/${ids.erinGrant}/review`, {}), 409, 'not_pending_review');

    const reviewed = (await h.events('grant.reviewed')).filter((e) => e.data.grantId === ids.erinGrant);
    assert.equal(reviewed.length, 1);
    assert.equal(reviewed[0]!.actor, 'user:dave');
    assert.equal(reviewed[0]!.data.note, 'matches INC-99, queries look right');

    assert.deepEqual(idsOf(await h.api('dave', 'GET', '/grants?review=pending')), new Set([ids.aliceGrant]));
    assert.deepEqual(idsOf(await h.api('dave', 'GET', '/grants?review=done')), new Set([ids.erinGrant]));
    const ordinary = (await h.api('alice', 'GET', '/grants?review=none')).body.items;
    assert.ok(ordinary.length > 0 && ordinary.every((g: any) => g.review === 'none' && g.break_glass === false));
  });

  test('a break-glass grant can be reviewed after it ended: review looks back', async () => {
    h.clock.advance(31 * 60);
    await loginAll();
    const pending = (await h.api('dave', 'GET', '/grants?review=pending')).body.items;
    assert.equal(pending.find((g: any) => g.id === ids.aliceGrant).status, 'expired');
    const done = await h.api('erin', 'POST', `/grants/${ids.aliceGrant}/review`, { note: 'checked after the fact' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.review, 'done');
    assert.equal(done.body.status, 'expired');
  });

  test('GET /me shows principal, groups, baseline, eligible scopes and bundles, and live grants only', async () => {
    const live = await file('alice', { scopes: ['read:metrics'], duration: '10m' });
    const scheduled = await file('alice', { scopes: ['read:metrics'], duration: '10m', starts_at: new Date((h.nowS() + 3600) * 1000).toISOString() });
    const released = await file('alice', { scopes: ['read:metrics'], duration: '10m' });
    assert.equal((await h.api('alice', 'POST', `/grants/${released.grant.id}/release`)).status, 200);

    const me = await h.api('alice', 'GET', '/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.principal, 'user:alice');
    assert.equal(me.body.client_id, 'jitgate-cli');
    assert.deepEqual([...me.body.groups].sort(), ['engineers', 'oncall']);
    assert.deepEqual(me.body.baseline, ['read:logs']);
    assert.deepEqual(me.body.eligible.scopes, ['db:write', 'deploy:prod', 'export:billing', 'read:metrics']);
    assert.deepEqual(me.body.eligible.bundles, ['incident-response']);
    assert.deepEqual(me.body.token_scopes, ['read:logs']);
    const grants = new Map<string, any>(me.body.grants.map((g: any) => [g.id, g]));
    assert.equal(grants.get(live.grant.id)?.status, 'active');
    assert.equal(grants.get(scheduled.grant.id)?.status, 'scheduled');
    assert.ok(!grants.has(released.grant.id), 'a released grant is not live');
    assert.ok(!grants.has(ids.aliceGrant!), 'an expired grant is not live');

    const bob = (await h.api('bob', 'GET', '/me')).body;
    assert.deepEqual(bob.groups, ['engineers']);
    assert.deepEqual(bob.eligible.bundles, [], 'bob may not ask for db:write, so not for the bundle');
    assert.deepEqual(bob.grants, []);

    const dave = (await h.api('dave', 'GET', '/me')).body;
    assert.deepEqual(dave.baseline, ['jitgate:audit']);
    assert.deepEqual(dave.token_scopes, ['jitgate:audit']);
    assert.deepEqual(dave.eligible, { scopes: [], bundles: [] });
  });

  test('GET /requests filters by mine, to_approve and status', async () => {
    const pending = await file('alice', { scopes: ['deploy:prod'], ticket: 'OPS-1' });
    const cancelled = await file('alice', { scopes: ['deploy:prod'], ticket: 'OPS-2' });
    assert.equal((await h.api('alice', 'POST', `/requests/${cancelled.id}/cancel`)).status, 200);
    const denied = await file('alice', { scopes: ['export:billing'] });
    assert.equal(denied.status, 'denied');
    const bobs = await file('bob', { scopes: ['deploy:prod'], ticket: 'OPS-3' });

    const mine = await h.api('alice', 'GET', '/requests?mine=true');
    assert.ok(mine.body.items.every((i: any) => i.requester === 'user:alice'));
    for (const id of [pending.id, cancelled.id, denied.id]) assert.ok(idsOf(mine).has(id));
    assert.ok(!idsOf(mine).has(bobs.id));

    const status = async (s: string) => idsOf(await h.api('alice', 'GET', `/requests?mine=true&status=${s}`));
    assert.deepEqual(await status('pending'), new Set([pending.id]));
    assert.deepEqual(await status('cancelled'), new Set([cancelled.id]));
    assert.deepEqual(await status('denied'), new Set([denied.id]));
    const approved = await h.api('alice', 'GET', '/requests?mine=true&status=approved');
    assert.ok(approved.body.items.length >= 4 && approved.body.items.every((i: any) => i.status === 'approved'));

    // Bob sees his own request only; alice's are not his to see.
    assert.deepEqual(idsOf(await h.api('bob', 'GET', '/requests')), new Set([bobs.id]));
    // A jitgate:audit holder sees everyone's.
    const all = idsOf(await h.api('dave', 'GET', '/requests?limit=200'));
    for (const id of [pending.id, cancelled.id, denied.id, bobs.id]) assert.ok(all.has(id));

    // Stage 1 belongs to sre-leads: carol has both pending deploys to approve, dave none yet.
    assert.deepEqual(idsOf(await h.api('carol', 'GET', '/requests?to_approve=true')), new Set([pending.id, bobs.id]));
    assert.deepEqual(idsOf(await h.api('dave', 'GET', '/requests?to_approve=true')), new Set());
    assert.deepEqual(idsOf(await h.api('alice', 'GET', '/requests?to_approve=true')), new Set(), 'never one’s own');
    assert.deepEqual(idsOf(await h.api('carol', 'GET', '/requests?mine=true')), new Set());

    assert.equal((await h.api('carol', 'POST', `/requests/${pending.id}/approve`, {})).status, 200);
    assert.deepEqual(idsOf(await h.api('carol', 'GET', '/requests?to_approve=true')), new Set([bobs.id]));
    const forSecurity = idsOf(await h.api('dave', 'GET', '/requests?to_approve=true'));
    assert.deepEqual(forSecurity, new Set([pending.id]));
    assert.deepEqual(idsOf(await h.api('erin', 'GET', '/requests?to_approve=true')), new Set([pending.id]));

    // Once bob's first stage times out, security may decide it too.
    h.clock.advance(15 * 60);
    await loginAll();
    assert.deepEqual(idsOf(await h.api('dave', 'GET', '/requests?to_approve=true')), new Set([pending.id, bobs.id]));
  });
});
