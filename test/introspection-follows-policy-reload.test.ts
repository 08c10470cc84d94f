import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, FIXTURE_POLICY, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';

const CI = basic('ci-pipeline', SECRETS['ci-pipeline']);
const RS = basic('resource-server', SECRETS['resource-server']);

forEachDatabase('introspection is the truth', (open) => {
  let srv: TestServer;
  const clock = new FrozenClock(Date.parse('2026-11-23T10:00:00Z'));
  before(async () => {
    srv = await startTestServer({ open, clock });
  });
  after(() => srv.close());

  const issue = async (extra: Record<string, string> = {}) =>
    (await postForm(`${srv.url}/token`, { grant_type: 'client_credentials', ...extra }, { authorization: CI })).body.access_token as string;
  const introspect = async (token: string) => (await postForm(`${srv.url}/introspect`, { token }, { authorization: RS })).body;
  const withdrawals = () => srv.ctx.store.db.selectFrom('audit_events').select(['seq', 'data']).where('type', '=', 'scope.withdrawn').orderBy('seq').execute();
  /** The withdrawal is recorded after the reload event, off the reload's own promise. */
  async function waitFor(cond: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await cond()) return;
      await new Promise((r) => setImmediate(r));
    }
    assert.fail('the scope.withdrawn event was not recorded');
  }

  test('a token is inactive the second its exp passes, without any sweeper', async () => {
    const t = await issue({ scope: 'read:metrics' }); // max_ttl 5m
    assert.equal((await introspect(t)).active, true);
    clock.advance(299);
    assert.equal((await introspect(t)).active, true);
    clock.advance(1);
    assert.deepEqual(await introspect(t), { active: false });
  });

  test('dropping a scope from a group in the policy ends the tokens carrying it at once', async () => {
    const withMetrics = await issue({ scope: 'read:metrics' });
    const logsOnly = await issue({ scope: 'read:logs' });
    await srv.rewritePolicy(FIXTURE_POLICY.replace('baseline: [read:metrics]', 'baseline: []'));
    assert.equal((await introspect(withMetrics)).active, false);
    assert.equal((await introspect(logsOnly)).active, true);
    const res = await postForm(`${srv.url}/token`, { grant_type: 'client_credentials', scope: 'read:metrics' }, { authorization: CI });
    assert.equal(res.body.error, 'invalid_scope');
    await srv.rewritePolicy(FIXTURE_POLICY);
  });

  test('a withdrawal is final: giving the scope back does not revive tokens issued before it, as at the gateways', async () => {
    const before = await issue({ scope: 'read:metrics' });
    const untouched = await issue({ scope: 'read:logs' });
    const seen = (await withdrawals()).length;
    await srv.rewritePolicy(FIXTURE_POLICY.replace('baseline: [read:metrics]', 'baseline: []'));
    await waitFor(async () => (await withdrawals()).length > seen);
    await srv.rewritePolicy(FIXTURE_POLICY);
    assert.deepEqual(await introspect(before), { active: false });
    assert.equal((await introspect(untouched)).active, true);
    // The revocation is recorded on the token itself, with its reason, and counted in the event the feed carries.
    const jti = JSON.parse(Buffer.from(before.split('.')[1]!, 'base64url').toString()).jti as string;
    const row = await srv.ctx.store.db.selectFrom('tokens').select(['revoked_at', 'revoked_reason']).where('jti', '=', jti).executeTakeFirstOrThrow();
    assert.equal(row.revoked_reason, 'scope_withdrawn');
    const [event] = (await withdrawals()).slice(-1);
    assert.equal(JSON.parse(event!.data).tokens_revoked >= 1, true);
    // A token issued once the scope is back is active.
    assert.equal((await introspect(await issue({ scope: 'read:metrics' }))).active, true);
    // Presenting the withdrawn token raises no revoked-token alert: nobody revoked it, the policy did.
    assert.equal((await srv.ctx.store.db.selectFrom('alerts').select('id').where('type', '=', 'revoked_token_use').execute()).length, 0);
  });

  test('a broken policy file is refused on reload and the old policy stays in force', async () => {
    const t = await issue();
    const hash = srv.ctx.policy.current.hash;
    await assert.rejects(srv.rewritePolicy(`${FIXTURE_POLICY}\n  bogus: [`), /refused/);
    assert.equal(srv.ctx.policy.current.hash, hash);
    assert.equal((await introspect(t)).active, true);
  });

  test('removing the client from the policy ends its tokens', async () => {
    const t = await issue();
    await srv.rewritePolicy(FIXTURE_POLICY.replace(/  ci-pipeline:\n(    .*\n)+/, ''));
    assert.equal((await introspect(t)).active, false);
    await srv.rewritePolicy(FIXTURE_POLICY);
  });

  test('a token whose signing key has left the JWKS is inactive', async () => {
    const t = await issue();
    const [h] = t.split('.');
    const kid = JSON.parse(Buffer.from(h!, 'base64url').toString()).kid as string;
    assert.ok(srv.ctx.keyring.verificationKey(kid));
    await srv.ctx.store.db.updateTable('signing_keys').set({ publish_until: 0 }).where('kid', '=', kid).execute();
    await srv.ctx.keyring.refresh();
    assert.equal((await introspect(t)).active, false);
  });
});
