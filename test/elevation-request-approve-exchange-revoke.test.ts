import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, loginWithIdToken, type TestServer } from './helpers/server.js';
import { TestIdp } from './helpers/idp.js';
import { FrozenClock } from '../src/util/clock.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const RS = basic('resource-server', SECRETS['resource-server']);

forEachDatabase('request → approvals → grant → exchange → revoke', (open) => {
  let srv: TestServer;
  let idp: TestIdp;
  // A Tuesday, 10:00 in Berlin.
  const clock = new FrozenClock(Date.parse('2026-11-24T09:00:00Z'));
  const tokens: Record<string, string> = {};

  const login = async (who: string, mfa = true) => {
    const now = Math.floor(clock.nowMs() / 1000);
    const idToken = await idp.idToken({ sub: who, ...(mfa ? { amr: ['pwd', 'otp'], auth_time: now - 30 } : {}) }, { nowS: now });
    return loginWithIdToken(srv.url, idToken, who);
  };
  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };

  before(async () => {
    idp = await new TestIdp().start();
    srv = await startTestServer({
      open,
      clock,
      substitute: { 'https://idp.test.invalid/jwks': idp.jwksUri, 'https://idp.test.invalid': idp.issuer },
    });
    for (const who of ['alice', 'carol', 'dave', 'bob']) tokens[who] = await login(who);
  });
  after(async () => {
    await srv.close();
    await idp.close();
  });

  test('the whole chain, with refusals at each step', async () => {
    const created = await api('alice', 'POST', '/requests', {
      scopes: ['deploy:prod'],
      duration: '30m',
      reason: 'roll out the payment fix to production',
      ticket: 'OPS-42',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const r = created.body;
    assert.equal(r.status, 'pending');
    assert.equal(r.resource, 'https://deploy.internal');
    assert.equal(r.decision.rule, 'production needs a lead, then security');
    assert.equal(r.decision.outcome, 'stages');
    assert.equal(r.decision.policy_hash, srv.ctx.policy.current.hash);
    assert.equal(r.stages.length, 2);
    assert.equal(r.grant, null);

    // Exchange before any grant: invalid_scope naming what to request.
    const early = await postForm(`${srv.url}/token`, {
      grant_type: EXCHANGE,
      client_id: 'jitgate-cli',
      subject_token: tokens.alice!,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'deploy:prod',
    });
    assert.equal(early.body.error, 'invalid_scope');
    assert.match(early.body.error_description, /POST \/api\/v1\/requests/);

    const self = await api('alice', 'POST', `/requests/${r.id}/approve`, {});
    assert.equal(self.status, 403);
    assert.equal(self.body.code, 'self_approval');
    assert.match(self.headers.get('content-type') ?? '', /application\/problem\+json/);

    const outsider = await api('bob', 'POST', `/requests/${r.id}/approve`, {});
    assert.equal(outsider.status, 404, 'bob can neither see nor approve it');

    const securityTooEarly = await api('dave', 'POST', `/requests/${r.id}/approve`, {});
    assert.equal(securityTooEarly.status, 403);
    assert.equal(securityTooEarly.body.code, 'not_an_approver');

    clock.advance(60);
    const s1 = await api('carol', 'POST', `/requests/${r.id}/approve`, { comment: 'looks right' });
    assert.equal(s1.status, 200, JSON.stringify(s1.body));
    assert.equal(s1.body.stages[0].status, 'approved');
    assert.equal(s1.body.status, 'pending');

    clock.advance(60);
    const s2 = await api('dave', 'POST', `/requests/${r.id}/approve`, {});
    assert.equal(s2.status, 200);
    assert.equal(s2.body.status, 'approved');
    const grant = s2.body.grant;
    assert.equal(grant.status, 'active');
    // The window starts at approval, not at the request.
    assert.equal(Date.parse(grant.starts_at), clock.nowMs());
    assert.equal(Date.parse(grant.ends_at), clock.nowMs() + 30 * 60_000);

    const again = await api('dave', 'POST', `/requests/${r.id}/approve`, {});
    assert.equal(again.status, 409);

    const ex = await postForm(`${srv.url}/token`, {
      grant_type: EXCHANGE,
      client_id: 'jitgate-cli',
      subject_token: tokens.alice!,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'deploy:prod',
    });
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    assert.equal(ex.body.refresh_token, undefined);
    const elevated = ex.body.access_token as string;
    const claims = JSON.parse(Buffer.from(elevated.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.grant, grant.id);
    assert.equal(claims.aud, 'https://deploy.internal');
    assert.ok(claims.exp <= Date.parse(grant.ends_at) / 1000);

    const active = await postForm(`${srv.url}/introspect`, { token: elevated }, { authorization: RS });
    assert.equal(active.body.active, true);
    assert.equal(active.body.grant, grant.id);

    // The holder may release but not revoke; someone who neither holds nor approved it cannot even see it.
    const byHolder = await api('alice', 'POST', `/grants/${grant.id}/revoke`, { reason: 'closing my own access' });
    assert.equal(byHolder.status, 403);
    assert.equal(byHolder.body.code, 'forbidden');
    const byOutsider = await api('bob', 'POST', `/grants/${grant.id}/revoke`, { reason: 'closing their access' });
    assert.equal(byOutsider.status, 404);
    assert.equal((await postForm(`${srv.url}/introspect`, { token: elevated }, { authorization: RS })).body.active, true);

    const revoked = await api('carol', 'POST', `/grants/${grant.id}/revoke`, { reason: 'deploy finished, closing access' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.status, 'revoked');

    const inactive = await postForm(`${srv.url}/introspect`, { token: elevated }, { authorization: RS });
    assert.deepEqual(inactive.body, { active: false });
    const refused = await postForm(`${srv.url}/token`, {
      grant_type: EXCHANGE,
      client_id: 'jitgate-cli',
      subject_token: tokens.alice!,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'deploy:prod',
    });
    assert.equal(refused.body.error, 'invalid_scope');

    const audit = await srv.ctx.store.db.selectFrom('audit_events').select(['seq', 'type']).orderBy('seq').execute();
    const types = audit.map((e) => e.type);
    for (const t of ['request.created', 'request.stage_approved', 'request.approved', 'grant.created', 'grant.started', 'grant.revoked']) {
      assert.ok(types.includes(t), `audit has ${t}: ${types.join(', ')}`);
    }
    assert.deepEqual(audit.map((e) => e.seq), audit.map((_, i) => i + 1));
  });
});
