import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { useAlertWorld, type Received } from './helpers/alerts.js';
import { postForm } from './helpers/server.js';
import { sweepOnce } from '../src/access/sweeper.js';

/** Saturday 03:00 in Europe/Berlin: outside the fixture's business hours. */
const SATURDAY_03_BERLIN_MS = Date.parse('2026-11-28T02:00:00Z');
/** Tuesday 10:00 in Europe/Berlin: inside them. */
const TUESDAY_10_BERLIN_MS = Date.parse('2026-12-01T09:00:00Z');

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

forEachDatabase('alerts raised, stored and delivered to webhooks, signed, with retries', (open) => {
  const w = useAlertWorld(open, { startMs: SATURDAY_03_BERLIN_MS });
  const ids: Record<string, string> = {};

  const file = async (who: string, body: Record<string, unknown>) => {
    const res = await w.api(who, 'POST', '/requests', { duration: '30m', reason: 'roll out the fix for the outage', ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const storedAlerts = async () => {
    const rows = await w.store.db.selectFrom('alerts').selectAll().orderBy('seq').execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), event_seq: Number(r.event_seq), details: JSON.parse(r.details) }));
  };
  /** Signed with the webhook secret (checked by the receiver when it arrived), at `tS` (default now). */
  const assertSigned = (r: Received, event: string, tS = w.nowS()) => {
    assert.equal(r.signed, true, `signature of a delivery to ${r.path}`);
    assert.match(String(r.headers['x-jitgate-signature']), new RegExp(`^t=${tS},v1=[0-9a-f]{64}$`));
    assert.equal(r.headers['x-jitgate-event'], event);
    assert.match(String(r.headers['content-type']), /^application\/json/);
  };

  test('a high-risk scope asked for on a Saturday night, never held before, raises off_hours and first_use; the first attempt fails, the retry delivers', async () => {
    w.receiver.failNext.set('/all', 1);
    await w.login('alice');
    const req = await file('alice', { scopes: ['deploy:prod'], ticket: 'OPS-1' });
    assert.equal(req.status, 'pending');
    ids.pending = req.id;
    await w.settle();

    const alerts = await storedAlerts();
    assert.deepEqual(alerts.map((a) => a.type), ['off_hours', 'first_use']);
    const [offHours, firstUse] = alerts;
    assert.equal(offHours!.severity, 'high');
    assert.equal(offHours!.principal, 'user:alice');
    assert.deepEqual(offHours!.details.scopes, ['deploy:prod']);
    assert.equal(offHours!.details.local_time, 'sat 03:00');
    assert.equal(offHours!.details.request_id, req.id);
    assert.deepEqual(firstUse!.details.scopes, ['deploy:prod']);
    // Each alert is an alert.raised audit event, and its seq is that event's.
    const raised = await w.events('alert.raised');
    assert.deepEqual(raised.map((e) => e.seq), alerts.map((a) => a.seq));
    assert.deepEqual(raised.map((e) => e.data.alertId), alerts.map((a) => a.id));
    const submitted = (await w.events('request.created')).find((e) => e.data.requestId === req.id)!;
    assert.equal(offHours!.event_seq, submitted.seq);

    const tries = w.receiver.at('/all');
    assert.equal(tries.length, 2);
    for (const r of tries) assertSigned(r, JSON.parse(r.body).type);
    assert.deepEqual(tries.map((r) => r.status).sort(), [200, 500]);
    const failed = tries.find((r) => r.status === 500)!;
    const rows = (await w.deliveries()).filter((d) => d.path === '/all');
    const pending = rows.find((d) => d.status === 'pending')!;
    assert.equal(rows.filter((d) => d.status === 'delivered').length, 1);
    assert.equal(pending.id, failed.headers['x-jitgate-delivery']);
    assert.equal(pending.attempts, 1);
    assert.equal(pending.last_error, 'HTTP 500');
    assert.equal(pending.next_attempt_at, w.nowS() + 8);

    // Not before its time…
    w.clock.advance(7);
    await w.settle();
    assert.equal(w.receiver.at('/all').length, 2);
    // …then the same bytes again, signed afresh.
    w.clock.advance(1);
    await w.settle();
    const retry = w.receiver.at('/all')[2]!;
    assert.equal(retry.status, 200);
    assert.equal(retry.body, failed.body);
    assert.equal(retry.headers['x-jitgate-delivery'], failed.headers['x-jitgate-delivery']);
    assertSigned(retry, JSON.parse(retry.body).type);
    const after = (await w.deliveries()).find((d) => d.id === pending.id)!;
    assert.equal(after.status, 'delivered');
    assert.equal(after.attempts, 2);

    const bodies = w.receiver.delivered('/all');
    assert.deepEqual(bodies.map((b) => b.type).sort(), ['first_use', 'off_hours']);
    for (const b of bodies) {
      assert.equal(b.kind, 'alert');
      const stored = alerts.find((a) => a.id === b.id)!;
      assert.equal(b.seq, stored.seq);
      assert.equal(b.summary, stored.summary);
      assert.deepEqual(b.details, stored.details);
    }
  });

  test('approvers are told a request waits for them: when it is filed, when its stage escalates, when the chain moves on', async () => {
    const issuer = w.srv.ctx.config.issuer;
    const [filed] = w.receiver.delivered('/approvers');
    assertSigned(w.receiver.at('/approvers')[0]!, 'request.pending', SATURDAY_03_BERLIN_MS / 1000);
    assert.equal(filed.kind, 'notification');
    assert.equal(filed.type, 'request.pending');
    assert.equal(filed.reason, 'submitted');
    assert.equal(filed.stage, 0);
    assert.deepEqual(filed.approvers, ['sre-leads']);
    assert.equal(filed.request.id, ids.pending);
    assert.equal(filed.request.requester, 'user:alice');
    assert.deepEqual(filed.request.scopes, ['deploy:prod']);
    assert.equal(filed.request.ticket, 'OPS-1');
    assert.equal(filed.request.link, `${issuer}/api/v1/requests/${ids.pending}`);

    w.clock.advance(15 * 60);
    await sweepOnce(w.srv.ctx);
    await w.settle();
    const escalated = w.receiver.delivered('/approvers')[1];
    assert.equal(escalated.reason, 'escalated');
    assert.deepEqual([...escalated.approvers].sort(), ['security', 'sre-leads']);

    await w.login('carol');
    const ok = await w.api('carol', 'POST', `/requests/${ids.pending}/approve`, { comment: 'fine' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await w.settle();
    const next = w.receiver.delivered('/approvers')[2];
    assert.equal(next.reason, 'next_stage');
    assert.equal(next.stage, 1);
    assert.deepEqual(next.approvers, ['security']);
    assert.equal(w.receiver.delivered('/approvers').length, 3);
    // Notices are opt-in by name: the "*" webhook gets alerts only.
    assert.ok(w.receiver.delivered('/all').every((b) => b.kind === 'alert'));
  });

  test('a self-approval is refused, recorded and alerted; its webhook always fails, so after 5 attempts on the backoff schedule it is a dead letter', async () => {
    w.receiver.failAlways.set('/dead', 503);
    await w.login('alice');
    const res = await w.api('alice', 'POST', `/requests/${ids.pending}/approve`, {});
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'self_approval');
    const attempts = await w.events('request.self_approval_attempt');
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]!.actor, 'user:alice');
    assert.equal(attempts[0]!.data.requestId, ids.pending);
    await w.settle();
    const alert = (await storedAlerts()).find((a) => a.type === 'self_approval_attempt')!;
    assert.equal(alert.severity, 'high');
    assert.equal(alert.details.request_id, ids.pending);

    assert.equal(w.receiver.at('/dead').length, 1);
    // Waits of 8, 16, 32 and 64 s (jitter source fixed at the middle).
    for (const [i, wait] of [8, 16, 32, 64].entries()) {
      w.clock.advance(wait - 1);
      await w.settle();
      assert.equal(w.receiver.at('/dead').length, i + 1, `attempt ${i + 2} waits ${wait} s`);
      w.clock.advance(1);
      await w.settle();
      assert.equal(w.receiver.at('/dead').length, i + 2);
      assertSigned(w.receiver.at('/dead')[i + 1]!, 'self_approval_attempt');
    }
    const dead = (await w.deliveries()).find((d) => d.path === '/dead')!;
    assert.equal(dead.status, 'dead');
    assert.equal(dead.attempts, 5);
    assert.equal(dead.last_status, 503);
    assert.equal(dead.last_error, 'HTTP 503');
    assert.equal(new Set(w.receiver.at('/dead').map((r) => r.headers['x-jitgate-delivery'])).size, 1);
    w.clock.advance(3600);
    await w.settle();
    assert.equal(w.receiver.at('/dead').length, 5, 'a dead letter is not retried');
    assert.ok(w.receiver.delivered('/all').some((b) => b.type === 'self_approval_attempt'));
  });

  test('break-glass raises a critical alert, delivered to the Slack webhook as {text, blocks}; no off_hours in business hours', async () => {
    w.clock.set(TUESDAY_10_BERLIN_MS);
    const before = (await storedAlerts()).length;
    await w.login('erin');
    const req = await file('erin', { scopes: ['db:write'], ticket: 'INC-7' });
    assert.equal(req.status, 'approved');
    assert.equal(req.decision.outcome, 'break_glass');
    await w.settle();

    const fresh = (await storedAlerts()).slice(before);
    assert.deepEqual(fresh.map((a) => a.type), ['first_use', 'break_glass']);
    const bg = fresh[1]!;
    assert.equal(bg.severity, 'critical');
    assert.equal(bg.principal, 'user:erin');
    assert.deepEqual(bg.details.scopes, ['db:write']);
    assert.equal(bg.details.ticket, 'INC-7');
    assert.equal(bg.details.resource, 'https://db.internal');

    const [slack] = w.receiver.at('/slack');
    assertSigned(slack!, 'break_glass');
    const msg = JSON.parse(slack!.body);
    assert.deepEqual(Object.keys(msg).sort(), ['blocks', 'text']);
    assert.match(msg.text, /break_glass/);
    assert.match(msg.text, /db:write/);
    assert.ok(Array.isArray(msg.blocks) && msg.blocks.length > 0);
    assert.equal(msg.blocks[0].type, 'section');
    assert.equal(msg.blocks[0].text.type, 'mrkdwn');
    assert.ok(w.receiver.delivered('/all').some((b) => b.type === 'break_glass' && b.id === bg.id));
  });

  test('five denials within ten minutes raise one denial_burst; further denials inside the burst raise nothing more', async () => {
    await w.login('bob');
    const bursts = async () => (await storedAlerts()).filter((a) => a.type === 'denial_burst');
    for (let i = 1; i <= 7; i++) {
      const r = await file('bob', { scopes: ['export:billing'] });
      assert.equal(r.status, 'denied');
      await w.settle();
      assert.equal((await bursts()).length, i < 5 ? 0 : 1, `after denial ${i}`);
      w.clock.advance(60);
    }
    const [burst] = await bursts();
    assert.equal(burst!.principal, 'user:bob');
    assert.equal(burst!.details.denials, 5);
    assert.equal(burst!.details.window_s, 600);
  });

  test('a revoked token at the REST API and a released grant’s token at introspection raise revoked_token_use; a webhook whose secret is unset gets dead letters, never a request', async () => {
    const token = await w.login('alice');
    const revoked = await postForm(`${w.srv.url}/revoke`, { token, client_id: 'jitgate-cli' });
    assert.equal(revoked.status, 200);
    assert.equal((await w.api('alice', 'GET', '/me')).status, 401);
    await w.eventually('token.revoked_use of the revoked token', async () => (await w.events('token.revoked_use')).length === 1);
    // Presented again within a minute: still one record.
    assert.equal((await w.api('alice', 'GET', '/me')).status, 401);
    const [use] = await w.events('token.revoked_use');
    assert.deepEqual(use!.data, { jti: claimsOf(token).jti, client_id: 'jitgate-cli', grant_id: null, cause: 'token_revoked', presented_at: 'api' });
    assert.equal(use!.subject, 'user:alice');
    assert.doesNotMatch(JSON.stringify(use), new RegExp(token.split('.')[2]!));

    await w.login('alice');
    const metrics = await file('alice', { scopes: ['read:metrics'] });
    assert.equal(metrics.status, 'approved');
    const ex = await postForm(`${w.srv.url}/token`, {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      client_id: 'jitgate-cli',
      subject_token: w.tokens.alice!,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'read:metrics',
    });
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    assert.equal((await w.introspect(ex.body.access_token)).active, true);
    assert.equal((await w.api('alice', 'POST', `/grants/${metrics.grant.id}/release`, {})).status, 200);
    assert.deepEqual(await w.introspect(ex.body.access_token), { active: false });
    await w.eventually('token.revoked_use of the released grant’s token', async () => (await w.events('token.revoked_use')).length === 2);
    const released = (await w.events('token.revoked_use'))[1]!;
    assert.equal(released.data.cause, 'grant_released');
    assert.equal(released.data.presented_at, 'introspection');
    assert.equal(released.data.grant_id, metrics.grant.id);

    await w.settle();
    const alerts = (await storedAlerts()).filter((a) => a.type === 'revoked_token_use');
    assert.deepEqual(alerts.map((a) => a.details.cause), ['token_revoked', 'grant_released']);
    assert.ok(alerts.every((a) => a.severity === 'high' && a.principal === 'user:alice'));
    assert.equal(w.receiver.delivered('/all').filter((b) => b.type === 'revoked_token_use').length, 2);

    assert.equal(w.receiver.at('/unset-secret').length, 0);
    const unsent = (await w.deliveries()).filter((d) => d.path === '/unset-secret');
    assert.equal(unsent.length, 2);
    for (const d of unsent) {
      assert.equal(d.status, 'dead');
      assert.equal(d.attempts, 0);
      assert.match(d.last_error, /ALERT_UNSET_SECRET is not set/);
    }
  });

  test('GET /alerts needs jitgate:audit and pages oldest first by type, after and limit', async () => {
    await w.login('alice');
    await w.login('dave');
    const denied = await w.api('alice', 'GET', '/alerts');
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(denied.body.code, 'forbidden');
    assert.equal(denied.body.scope, 'jitgate:audit');
    const anonymous = await fetch(`${w.srv.url}/api/v1/alerts`);
    assert.equal(anonymous.status, 401);

    const all = await w.api('dave', 'GET', '/alerts?limit=500');
    assert.equal(all.status, 200);
    const items = all.body.items as any[];
    const stored = await storedAlerts();
    assert.deepEqual(items.map((a) => a.id), stored.map((a) => a.id));
    assert.deepEqual(
      [...new Set(items.map((a) => a.type))].sort(),
      ['break_glass', 'denial_burst', 'first_use', 'off_hours', 'revoked_token_use', 'self_approval_attempt'],
    );
    assert.deepEqual(Object.keys(items[0]).sort(), ['at', 'details', 'event_seq', 'id', 'principal', 'seq', 'severity', 'summary', 'type']);
    assert.equal(all.body.next, null);

    const bursts = await w.api('dave', 'GET', '/alerts?type=denial_burst');
    assert.deepEqual(bursts.body.items.map((a: any) => a.type), ['denial_burst']);
    const page1 = await w.api('dave', 'GET', '/alerts?limit=2');
    assert.equal(page1.body.items.length, 2);
    assert.equal(page1.body.next, page1.body.items[1].seq);
    const page2 = await w.api('dave', 'GET', `/alerts?limit=2&after=${page1.body.next}`);
    assert.deepEqual(page2.body.items.map((a: any) => a.id), items.slice(2, 4).map((a) => a.id));

    for (const q of ['type=nope', 'after=-1', 'after=x', 'limit=0']) {
      const bad = await w.api('dave', 'GET', `/alerts?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.code, 'query_invalid', q);
    }
  });

  test('a delivery still pending when the server stops is sent by the next server on the same database', async () => {
    w.receiver.failNext.set('/all', 1);
    const before = w.receiver.at('/all').length;
    await w.login('erin');
    await file('erin', { scopes: ['db:write'], ticket: 'INC-8' });
    await w.settle();
    assert.equal(w.receiver.at('/all').length, before + 1);
    const pending = (await w.deliveries()).find((d) => d.path === '/all' && d.status === 'pending')!;
    assert.equal(pending.attempts, 1);

    await w.restart();
    w.clock.advance(8);
    await w.settle();
    const after = (await w.deliveries()).find((d) => d.id === pending.id)!;
    assert.equal(after.status, 'delivered');
    assert.equal(after.attempts, 2);
    assert.equal(w.receiver.at('/all').at(-1)!.headers['x-jitgate-delivery'], pending.id);
  });
});
