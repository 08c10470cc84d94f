import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { useElevationServer, assertProblem, claimsOf } from './helpers/elevation.js';
import { sweepOnce } from '../src/access/sweeper.js';

const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.000Z$/, 'Z');

forEachDatabase('approval chains follow time: escalation, expiry, scheduled start, release, cancel', (open) => {
  const h = useElevationServer(open);

  /** Fresh tokens (and fresh MFA) for everyone after the clock moved. */
  const loginAll = async () => {
    for (const who of ['alice', 'bob', 'carol', 'dave']) await h.login(who);
  };
  const requestDeploy = async (extra: Record<string, unknown> = {}) => {
    const res = await h.api('alice', 'POST', '/requests', {
      scopes: ['deploy:prod'],
      duration: '30m',
      reason: 'roll out the payment fix to production',
      ticket: 'OPS-42',
      ...extra,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    return res.body as { id: string; [k: string]: any };
  };
  const storedRow = (id: string) =>
    h.srv.ctx.store.db.selectFrom('access_requests').select(['status', 'state']).where('id', '=', id).executeTakeFirstOrThrow();
  const eventsOf = async (type: string, requestId: string) => (await h.events(type)).filter((e) => e.data.requestId === requestId);
  const approveBoth = async (id: string) => {
    const s1 = await h.api('carol', 'POST', `/requests/${id}/approve`, {});
    assert.equal(s1.status, 200, JSON.stringify(s1.body));
    const s2 = await h.api('dave', 'POST', `/requests/${id}/approve`, {});
    assert.equal(s2.status, 200, JSON.stringify(s2.body));
    assert.equal(s2.body.status, 'approved');
    return s2.body;
  };

  test('escalation: the escalate_to group may approve only once the stage timeout has passed; the sweeper records it once', async () => {
    await loginAll();
    const t0 = h.nowS();
    const r = await requestDeploy();
    assert.deepEqual(r.stages[0].escalate_to, ['security']);
    assert.equal(r.stages[0].escalated, false);

    h.clock.advance(899);
    const early = await h.api('dave', 'POST', `/requests/${r.id}/approve`, {});
    assertProblem(early, 403, 'not_an_approver', 'one second before the timeout');
    await sweepOnce(h.srv.ctx);
    assert.equal((await eventsOf('request.escalated', r.id)).length, 0);
    assert.equal((await h.api('alice', 'GET', `/requests/${r.id}`)).body.stages[0].escalated, false);

    h.clock.advance(1);
    await loginAll();
    const seen = await h.api('alice', 'GET', `/requests/${r.id}`);
    assert.equal(seen.body.stages[0].escalated, true, 'the view follows time before any sweep');
    assert.equal(JSON.parse((await storedRow(r.id)).state).stages[0].escalated, false, 'not yet written down');

    // The sweep runs late; the event carries the instant the timeout passed.
    h.clock.advance(45);
    await loginAll();
    // Two nodes sweeping at once, then once more.
    await Promise.all([sweepOnce(h.srv.ctx), sweepOnce(h.srv.ctx)]);
    await sweepOnce(h.srv.ctx);
    const escalated = await eventsOf('request.escalated', r.id);
    assert.equal(escalated.length, 1, 'recorded once however often the sweeper runs');
    assert.equal(escalated[0]!.at, new Date((t0 + 900) * 1000).toISOString());
    assert.deepEqual(escalated[0]!.data.to, ['security']);
    assert.equal(escalated[0]!.data.stage, 0);

    const ok = await h.api('dave', 'POST', `/requests/${r.id}/approve`, { comment: 'lead is out, approving as security' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.stages[0].status, 'approved');
    assert.equal(ok.body.stages[0].approvals[0].by, 'user:dave');
    // The same person cannot approve the next stage as well.
    assertProblem(await h.api('dave', 'POST', `/requests/${r.id}/approve`, {}), 409, 'already_approved');
    await sweepOnce(h.srv.ctx);
    assert.equal((await eventsOf('request.escalated', r.id)).length, 1);
  });

  test('escalation reached by an approval before any sweep is recorded by that approval, and not again by the sweeper', async () => {
    const t0 = h.nowS();
    const r = await requestDeploy();
    h.clock.advance(900);
    await loginAll();
    const ok = await h.api('dave', 'POST', `/requests/${r.id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const escalated = await eventsOf('request.escalated', r.id);
    assert.equal(escalated.length, 1);
    assert.equal(escalated[0]!.at, new Date((t0 + 900) * 1000).toISOString());
    await sweepOnce(h.srv.ctx);
    assert.equal((await eventsOf('request.escalated', r.id)).length, 1);
  });

  test('a request pending past its TTL reads expired at once, before any sweep; approving it then is 409', async () => {
    const t0 = h.nowS();
    const r = await requestDeploy();
    assert.equal(Date.parse(r.expires_at) / 1000, t0 + 3600);

    h.clock.advance(3599);
    await loginAll();
    assert.equal((await h.api('alice', 'GET', `/requests/${r.id}`)).body.status, 'pending');

    h.clock.advance(1);
    await loginAll();
    assert.equal((await storedRow(r.id)).status, 'pending', 'no sweep has run');
    const seen = await h.api('alice', 'GET', `/requests/${r.id}`);
    assert.equal(seen.body.status, 'expired');
    assert.equal(seen.body.decided_at, iso(t0 + 3600));

    const listed = await h.api('alice', 'GET', '/requests?mine=true&status=expired');
    assert.ok(listed.body.items.some((i: any) => i.id === r.id));
    const pending = await h.api('alice', 'GET', '/requests?mine=true&status=pending');
    assert.ok(!pending.body.items.some((i: any) => i.id === r.id));

    const before = await h.counts();
    assertProblem(await h.api('carol', 'POST', `/requests/${r.id}/approve`, {}), 409, 'not_pending');
    assertProblem(await h.api('alice', 'POST', `/requests/${r.id}/cancel`), 409, 'not_pending');
    assertProblem(await h.api('carol', 'POST', `/requests/${r.id}/deny`, { reason: 'too late for this one' }), 409, 'not_pending');
    assert.deepEqual(await h.counts(), before, 'refusals write nothing');

    h.clock.advance(120);
    await sweepOnce(h.srv.ctx);
    await sweepOnce(h.srv.ctx);
    const expired = await eventsOf('request.expired', r.id);
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.at, new Date((t0 + 3600) * 1000).toISOString(), 'stamped with the TTL, not the sweep');
    assert.equal((await storedRow(r.id)).status, 'expired');
    assert.equal((await h.api('alice', 'GET', `/requests/${r.id}`)).body.grant, null);
  });

  test('a scheduled start: the grant is scheduled, exchange is refused, then active over [starts_at, starts_at + duration)', async () => {
    await loginAll();
    const startsAt = h.nowS() + 2 * 3600;
    const r = await requestDeploy({ starts_at: iso(startsAt), duration: '30m' });
    assert.equal(r.starts_at, iso(startsAt));
    const approved = await approveBoth(r.id);
    assert.equal(approved.grant.status, 'scheduled');
    assert.equal(approved.grant.starts_at, iso(startsAt));
    assert.equal(approved.grant.ends_at, iso(startsAt + 1800));
    const grantId = approved.grant.id as string;

    const refused = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_scope');

    h.clock.set((startsAt - 1) * 1000);
    await loginAll();
    const mine = await h.api('alice', 'GET', '/grants');
    assert.equal(mine.body.items.find((g: any) => g.id === grantId).status, 'scheduled');
    assert.equal((await h.exchange(h.tokens.alice!, 'deploy:prod')).body.error, 'invalid_scope');

    h.clock.set(startsAt * 1000);
    await loginAll();
    assert.equal((await h.api('alice', 'GET', `/requests/${r.id}`)).body.grant.status, 'active');
    const ex = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    const claims = claimsOf(ex.body.access_token);
    assert.equal(claims.grant, grantId);
    assert.ok(claims.exp <= startsAt + 1800);
    await sweepOnce(h.srv.ctx);
    const started = (await h.events('grant.started')).filter((e) => e.data.grantId === grantId);
    assert.equal(started.length, 1);
    assert.equal(started[0]!.at, new Date(startsAt * 1000).toISOString());

    h.clock.set((startsAt + 1799) * 1000);
    await loginAll();
    assert.equal((await h.api('alice', 'GET', '/grants?status=active')).body.items.some((g: any) => g.id === grantId), true);
    const last = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(last.status, 200);
    assert.equal(claimsOf(last.body.access_token).exp, startsAt + 1800, 'the token ends with the grant');
    assert.equal((await h.introspect(last.body.access_token)).active, true);

    h.clock.set((startsAt + 1800) * 1000);
    await loginAll();
    assert.equal((await h.introspect(last.body.access_token)).active, false);
    assert.equal((await h.api('alice', 'GET', `/requests/${r.id}`)).body.grant.status, 'expired');
    assert.equal((await h.exchange(h.tokens.alice!, 'deploy:prod')).body.error, 'invalid_scope');
    await sweepOnce(h.srv.ctx);
    const ended = (await h.events('grant.expired')).filter((e) => e.data.grantId === grantId);
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.at, new Date((startsAt + 1800) * 1000).toISOString());
  });

  test('release: only the holder gives a grant up, and its tokens are inactive at once', async () => {
    await loginAll();
    const r = await requestDeploy();
    const { grant } = await approveBoth(r.id);
    const ex = await h.exchange(h.tokens.alice!, 'deploy:prod');
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    const elevated = ex.body.access_token as string;
    assert.equal((await h.introspect(elevated)).active, true);

    const before = await h.counts();
    // An approver sees the grant but is not its holder; an outsider does not see it at all.
    assertProblem(await h.api('carol', 'POST', `/grants/${grant.id}/release`), 403, 'not_holder');
    assertProblem(await h.api('bob', 'POST', `/grants/${grant.id}/release`), 404, 'not_found');
    assertProblem(await h.api('carol', 'POST', `/grants/${grant.id}/revoke`, {}), 422, 'reason_required');
    assert.deepEqual(await h.counts(), before);
    assert.equal((await h.introspect(elevated)).active, true);

    h.clock.advance(60);
    const released = await h.api('alice', 'POST', `/grants/${grant.id}/release`);
    assert.equal(released.status, 200, JSON.stringify(released.body));
    assert.equal(released.body.status, 'released');
    assert.equal(released.body.released_at, iso(h.nowS()));
    assert.deepEqual(await h.introspect(elevated), { active: false });
    assert.equal((await h.exchange(h.tokens.alice!, 'deploy:prod')).body.error, 'invalid_scope');
    assertProblem(await h.api('alice', 'POST', `/grants/${grant.id}/release`), 409, 'grant_not_live');

    const events = (await h.events('grant.released')).filter((e) => e.data.grantId === grant.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.actor, 'user:alice');
  });

  test('cancel: only the requester withdraws a pending request', async () => {
    const r = await requestDeploy();
    const before = await h.counts();
    assertProblem(await h.api('carol', 'POST', `/requests/${r.id}/cancel`), 403, 'not_requester');
    assertProblem(await h.api('bob', 'POST', `/requests/${r.id}/cancel`), 404, 'not_found');
    assert.deepEqual(await h.counts(), before);

    const cancelled = await h.api('alice', 'POST', `/requests/${r.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(cancelled.body.grant, null);
    assertProblem(await h.api('alice', 'POST', `/requests/${r.id}/cancel`), 409, 'not_pending');
    assertProblem(await h.api('carol', 'POST', `/requests/${r.id}/approve`, {}), 409, 'not_pending');
    const events = await eventsOf('request.cancelled', r.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.actor, 'user:alice');
  });
});
