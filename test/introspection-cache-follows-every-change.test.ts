import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import type { Store } from '../src/store/open.js';

const CI = basic('ci-pipeline', SECRETS['ci-pipeline']);
const RS = basic('resource-server', SECRETS['resource-server']);
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Introspection keeps what it proved about a token (its row, its grant) only
 * while nothing can have changed it: every test asks about a token first, so
 * the answer is kept, then changes what it rests on by one path or another,
 * and the very next answer must see the change.
 */
forEachDatabase('introspection answers from kept rows only while they are true', (open) => {
  let srv: TestServer;
  let sibling: Store;
  // A Tuesday, 10:00 in Berlin: inside every window of the fixture policy.
  const clock = new FrozenClock(Date.parse('2026-11-24T09:00:00Z'));
  const now = () => Math.floor(clock.nowMs() / 1000);

  before(async () => {
    srv = await startTestServer({ open, clock });
    // Another connection to the same database, as a second process would have.
    sibling = await open({ sameDatabaseAs: srv.ctx.store });
  });
  after(() => srv.close());

  const issue = async () =>
    (await postForm(`${srv.url}/token`, { grant_type: 'client_credentials', scope: 'read:logs' }, { authorization: CI })).body.access_token as string;
  const active = async (token: string) => {
    const body = (await postForm(`${srv.url}/introspect`, { token }, { authorization: RS })).body;
    return body.active as boolean;
  };
  const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;

  test('a token revoked at the revocation endpoint is inactive at once', async () => {
    const t = await issue();
    assert.equal(await active(t), true);
    assert.equal(await active(t), true);
    const res = await postForm(`${srv.url}/revoke`, { token: t }, { authorization: CI });
    assert.equal(res.status, 200);
    assert.equal(await active(t), false);
  });

  test('a token marked revoked by another connection to the database is inactive at once', async () => {
    const t = await issue();
    const other = await issue();
    assert.equal(await active(t), true);
    assert.equal(await active(other), true);
    await sibling.db.updateTable('tokens').set({ revoked_at: now(), revoked_reason: 'test' }).where('jti', '=', jtiOf(t)).execute();
    assert.equal(await active(t), false);
    assert.equal(await active(other), true);
  });

  test('a change written through the server\'s own connection, by any code path, is seen at once', async () => {
    const t = await issue();
    assert.equal(await active(t), true);
    await srv.ctx.store.db.updateTable('tokens').set({ revoked_at: now(), revoked_reason: 'test' }).where('jti', '=', jtiOf(t)).execute();
    assert.equal(await active(t), false);
  });

  test('an elevated token ends the moment its grant is revoked, whoever writes it', async () => {
    const grantRow = (id: string) => ({
      id,
      request_id: `req_${id}`,
      principal: 'client:ci-pipeline',
      scopes: 'deploy:prod',
      resource: 'https://deploy.internal',
      starts_at: now() - 60,
      ends_at: now() + 1800,
      revoked_at: null,
      revoked_by: null,
      revoke_reason: null,
      released_at: null,
      break_glass: 0,
      review: 'none',
      reviewed_by: null,
      reviewed_at: null,
      review_note: null,
      created_at: now() - 60,
    });
    const elevated = async () => {
      const res = await postForm(
        `${srv.url}/token`,
        { grant_type: TOKEN_EXCHANGE, subject_token: await issue(), subject_token_type: ACCESS_TOKEN, scope: 'deploy:prod' },
        { authorization: CI },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.access_token as string;
    };

    for (const [id, writer] of [['gr_cache_own', () => srv.ctx.store.db], ['gr_cache_sibling', () => sibling.db]] as const) {
      await srv.ctx.store.db.insertInto('grants').values(grantRow(id)).execute();
      const t = await elevated();
      assert.equal(await active(t), true);
      assert.equal(await active(t), true);
      await writer().updateTable('grants').set({ revoked_at: now(), revoked_by: 'user:carol', revoke_reason: 'test' }).where('id', '=', id).execute();
      assert.equal(await active(t), false, `grant revoked through ${id}`);
    }
  });
});
