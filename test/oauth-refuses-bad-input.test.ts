import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, SECRETS, basic, postForm, type TestServer } from './helpers/server.js';

const CI = basic('ci-pipeline', SECRETS['ci-pipeline']);

forEachDatabase('the token endpoint refuses bad input', (open) => {
  let srv: TestServer;
  let token: string;
  before(async () => {
    srv = await startTestServer({ open, config: { maxAuthFailures: 5 } });
  });
  after(() => srv.close());
  const tokenUrl = () => `${srv.url}/token`;

  test('a JSON body is refused with invalid_request, not parsed', async () => {
    const res = await fetch(tokenUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: CI },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    assert.equal(res.status, 415);
    assert.equal(((await res.json()) as any).error, 'invalid_request');
  });

  test('an empty body says grant_type is required', async () => {
    const res = await postForm(tokenUrl(), {}, { authorization: CI });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
    assert.match(res.body.error_description, /grant_type/);
  });

  test('a malformed form body is answered with an OAuth error', async () => {
    const res = await fetch(tokenUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: CI },
      body: '%%%grant_type=%E0%A4%A',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error, 'invalid_request');
  });

  test('an oversized body gets 413 and the server keeps serving', async () => {
    const res = await fetch(tokenUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: CI },
      body: `grant_type=client_credentials&pad=${'x'.repeat(70_000)}`,
    });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as any).error, 'invalid_request');
    const ok = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: CI });
    assert.equal(ok.status, 200);
    token = ok.body.access_token;
  });

  test('an unknown grant type is unsupported_grant_type', async () => {
    const res = await postForm(tokenUrl(), { grant_type: 'password', username: 'a', password: 'b' }, { authorization: CI });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'unsupported_grant_type');
  });

  test('a repeated parameter is refused', async () => {
    const res = await postForm(tokenUrl(), { grant_type: ['client_credentials', 'client_credentials'] }, { authorization: CI });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
    assert.match(res.body.error_description, /repeated/);
  });

  test('a wrong secret is invalid_client with a challenge', async () => {
    const res = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: basic('ci-pipeline', 'wrong-secret') });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  test('an unknown client is invalid_client, told apart from nothing', async () => {
    const res = await postForm(tokenUrl(), { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
  });

  test('client_secret_post works and two methods at once are refused', async () => {
    const post = await postForm(tokenUrl(), { grant_type: 'client_credentials', client_id: 'ci-pipeline', client_secret: SECRETS['ci-pipeline'] });
    assert.equal(post.status, 200);
    const both = await postForm(
      tokenUrl(),
      { grant_type: 'client_credentials', client_id: 'ci-pipeline', client_secret: SECRETS['ci-pipeline'] },
      { authorization: CI },
    );
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
    assert.match(both.body.error_description, /exactly one/);
  });

  test('a public client cannot use client_credentials', async () => {
    const res = await postForm(tokenUrl(), { grant_type: 'client_credentials', client_id: 'jitgate-cli' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'unauthorized_client');
  });

  test('a scope not held is invalid_scope naming it and how to request it', async () => {
    const res = await postForm(tokenUrl(), { grant_type: 'client_credentials', scope: 'read:logs deploy:prod' }, { authorization: CI });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_scope');
    assert.deepEqual(res.body.scopes, ['deploy:prod']);
    assert.match(res.body.error_description, /deploy:prod/);
    assert.match(res.body.error_description, /\/api\/v1\/requests/);
  });

  test('an unknown scope and a malformed scope are refused', async () => {
    const unknown = await postForm(tokenUrl(), { grant_type: 'client_credentials', scope: 'nope:nothing' }, { authorization: CI });
    assert.equal(unknown.body.error, 'invalid_scope');
    const malformed = await postForm(tokenUrl(), { grant_type: 'client_credentials', scope: 'read:"logs"' }, { authorization: CI });
    assert.equal(malformed.body.error, 'invalid_request');
  });

  test('resource: unknown, relative, repeated, and one that does not accept the scope', async () => {
    const cases: [Record<string, string | string[]>, string][] = [
      [{ resource: 'https://unknown.internal' }, 'invalid_target'],
      [{ resource: '/relative' }, 'invalid_target'],
      [{ resource: ['https://billing.internal', 'https://deploy.internal'] }, 'invalid_target'],
      [{ resource: 'https://billing.internal', scope: 'read:metrics' }, 'invalid_scope'],
    ];
    for (const [extra, error] of cases) {
      const res = await postForm(tokenUrl(), { grant_type: 'client_credentials', ...extra }, { authorization: CI });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal(res.body.error, error, JSON.stringify(extra));
    }
  });

  test('a client bound to one environment gets no token for a resource of another', async () => {
    const staging = basic('staging-runner', SECRETS['staging-runner']);
    const res = await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: 'https://deploy.internal' }, { authorization: staging });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_target');
    assert.match(res.body.error_description, /environment staging/);
    const prod = await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: 'https://deploy.staging.internal' }, { authorization: CI });
    assert.equal(prod.body.error, 'invalid_target');
    const own = await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: 'https://deploy.staging.internal' }, { authorization: staging });
    assert.equal(own.status, 200);
    assert.equal(own.body.scope, 'deploy:staging read:logs');
  });

  test('introspection and revocation need client authentication', async () => {
    const anon = await postForm(`${srv.url}/introspect`, { token });
    assert.equal(anon.status, 401);
    const pub = await postForm(`${srv.url}/introspect`, { token, client_id: 'jitgate-cli' });
    assert.equal(pub.status, 401);
    const noToken = await postForm(`${srv.url}/introspect`, {}, { authorization: CI });
    assert.equal(noToken.status, 400);
    const revokeAnon = await postForm(`${srv.url}/revoke`, { token });
    assert.equal(revokeAnon.status, 401);
  });

  test('a client cannot revoke another client’s token; an unknown token revokes with 200', async () => {
    const other = basic('resource-server', SECRETS['resource-server']);
    const res = await postForm(`${srv.url}/revoke`, { token }, { authorization: other });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'unauthorized_client');
    const junk = await postForm(`${srv.url}/revoke`, { token: 'not-a-token' }, { authorization: CI });
    assert.equal(junk.status, 200);
    const stillActive = await postForm(`${srv.url}/introspect`, { token }, { authorization: other });
    assert.equal(stillActive.body.active, true);
  });

  test('repeated failed authentications are rate limited per client with Retry-After', async () => {
    const bad = basic('staging-runner', 'not-the-secret');
    for (let i = 0; i < 5; i++) {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: bad });
      assert.equal(r.status, 401);
    }
    const limited = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: bad });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Even the right secret waits out the window: guessing cannot continue in parallel.
    const right = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: basic('staging-runner', SECRETS['staging-runner']) });
    assert.equal(right.status, 429);
  });

  test('an unknown path is a JSON 404', async () => {
    const res = await fetch(`${srv.url}/nope`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
  });
});
