import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { postForm, basic, SECRETS } from './helpers/server.js';
import { useElevationServer, assertProblem, type ApiResponse } from './helpers/elevation.js';

const DEPLOY = { scopes: ['deploy:prod'], duration: '30m', reason: 'roll out the payment fix to production', ticket: 'OPS-42' };

forEachDatabase('the REST API refuses bad input with problem+json and writes nothing', (open) => {
  const h = useElevationServer(open);
  let aliceRequest = '';

  /** Sends a raw body (none when null) with any content type (none when null; fetch then labels a string text/plain). */
  const raw = async (who: string, path: string, body: string | null, contentType: string | null): Promise<ApiResponse> => {
    const headers: Record<string, string> = { authorization: `Bearer ${h.tokens[who]}` };
    if (contentType) headers['content-type'] = contentType;
    const res = await fetch(`${h.srv.url}/api/v1${path}`, { method: 'POST', headers, ...(body !== null ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  /** Asserts the refusal and that it wrote no request, no grant and no request or grant event. */
  const refuses = async (call: () => Promise<ApiResponse>, status: number, code: string, what: string) => {
    const before = await h.counts();
    const res = await call();
    assertProblem(res, status, code, what);
    assert.deepEqual(await h.counts(), before, `${what}: nothing written`);
    return res;
  };

  test('setup: people log in and alice has one pending request', async () => {
    for (const who of ['alice', 'bob', 'carol', 'dave']) await h.login(who);
    const res = await h.api('alice', 'POST', '/requests', DEPLOY);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    aliceRequest = res.body.id;
  });

  test('POST /requests: faults in what is asked for', async () => {
    const post = (body: unknown) => () => h.api('alice', 'POST', '/requests', body);

    const unknown = await refuses(post({ ...DEPLOY, scopes: ['deploy:prd'] }), 422, 'scope_unknown', 'unknown scope');
    assert.deepEqual(unknown.body.scopes, ['deploy:prd']);
    assert.match(unknown.body.detail, /deploy:prod/, 'says what was meant');

    const { reason: _r, ...noReason } = DEPLOY;
    assert.equal((await refuses(post(noReason), 422, 'reason_required', 'missing reason')).body.field, 'reason');
    await refuses(post({ ...DEPLOY, reason: 'deploy' }), 422, 'reason_required', 'one-word reason');
    await refuses(post({ ...DEPLOY, reason: '   ' }), 422, 'reason_required', 'blank reason');

    const badTicket = await refuses(post({ ...DEPLOY, ticket: 'JIRA-1' }), 422, 'ticket_invalid', 'bad ticket');
    assert.equal(badTicket.body.field, 'ticket');
    const { ticket: _t, ...noTicket } = DEPLOY;
    assert.equal((await refuses(post(noTicket), 422, 'ticket_required', 'missing ticket')).body.field, 'ticket');

    const long = await refuses(post({ ...DEPLOY, duration: '2h' }), 422, 'duration_too_long', 'too long a duration');
    assert.equal(long.body.max_s, 3600);
    await refuses(post({ ...DEPLOY, duration: 'soon' }), 400, 'duration_invalid', 'not a duration');
    await refuses(post({ ...DEPLOY, duration: -5 }), 400, 'duration_invalid', 'negative duration');
    const { duration: _d, ...noDuration } = DEPLOY;
    await refuses(post(noDuration), 400, 'duration_invalid', 'missing duration');

    await refuses(post({ ...DEPLOY, bundle: 'incident-response' }), 400, 'bundle_and_scopes', 'both bundle and scopes');
    await refuses(post({ ...DEPLOY, scopes: [] }), 400, 'scopes_required', 'empty scopes');
    const typo = await refuses(post({ ...DEPLOY, ttl: 60 }), 400, 'body_invalid', 'unknown key');
    assert.equal(typo.body.field, 'ttl');
    await refuses(post({ ...DEPLOY, scopes: 'deploy:prod' }), 400, 'body_invalid', 'scopes not a list');
    await refuses(post({ ...DEPLOY, starts_at: '2026-02-30T09:00:00Z' }), 400, 'body_invalid', 'a day that does not exist');
    await refuses(post({ ...DEPLOY, starts_at: '2020-01-01T09:00:00Z' }), 422, 'starts_at_invalid', 'start in the past');
    await refuses(post({ ...DEPLOY, resource: 'https://nowhere.internal' }), 422, 'resource_unknown', 'unknown resource');
    await refuses(post({ ...DEPLOY, resource: 'https://billing.internal' }), 422, 'resource_rejects_scope', 'resource without the scope');
    // PostgreSQL text cannot hold NUL: refused up front, the same on both databases.
    assert.equal((await refuses(post({ ...DEPLOY, reason: 'roll out\u0000 the payment fix' }), 400, 'body_invalid', 'NUL in reason')).body.field, 'reason');
    await refuses(post({ ...DEPLOY, ticket: 'OPS-1\u0000' }), 400, 'body_invalid', 'NUL in ticket');
    // A deeply nested context (small enough for the body limit) must not exhaust the stack.
    const deep = `{"scopes":["deploy:prod"],"duration":"30m","reason":"roll out the fix","ticket":"OPS-1","context":{"a":${'['.repeat(30_000)}${']'.repeat(30_000)}}}`;
    assert.equal((await refuses(() => raw('alice', '/requests', deep, 'application/json'), 400, 'body_invalid', 'context nested 30000 deep')).body.field, 'context');
    await refuses(post([DEPLOY]), 400, 'body_invalid', 'a JSON array');
    await refuses(post('deploy:prod'), 400, 'body_invalid', 'a JSON string');
  });

  test('POST /requests: not eligible is 403 and lists what may be requested', async () => {
    const res = await refuses(
      () => h.api('bob', 'POST', '/requests', { scopes: ['admin:billing'], duration: '10m', reason: 'fix the broken invoice run', ticket: 'INC-1' }),
      403,
      'not_eligible',
      'not eligible',
    );
    assert.deepEqual(res.body.scopes, ['admin:billing']);
    assert.ok(res.body.eligible.includes('deploy:prod'), JSON.stringify(res.body));
    assert.ok(!res.body.eligible.includes('admin:billing'));
    assert.ok(res.body.eligible_bundles.includes('incident-response'), JSON.stringify(res.body));

    const carol = await refuses(() => h.api('carol', 'POST', '/requests', DEPLOY), 403, 'not_eligible', 'eligible for nothing');
    assert.deepEqual(carol.body.eligible, []);
  });

  test('POST /requests: malformed JSON, other media types and oversized bodies', async () => {
    await refuses(() => raw('alice', '/requests', '{"scopes": ["deploy:prod"', 'application/json'), 400, 'body_invalid', 'malformed JSON');
    await refuses(() => raw('alice', '/requests', '', 'application/json'), 400, 'body_invalid', 'empty JSON body');
    await refuses(() => raw('alice', '/requests', null, null), 400, 'body_invalid', 'no body at all');
    await refuses(() => raw('alice', '/requests', '', 'text/plain'), 415, 'unsupported_media_type', 'an empty text body');
    const form = new URLSearchParams({ scopes: 'deploy:prod', duration: '30m', reason: 'roll out the payment fix', ticket: 'OPS-1' }).toString();
    await refuses(() => raw('alice', '/requests', form, 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type', 'form-encoded body');
    await refuses(() => raw('alice', '/requests', JSON.stringify(DEPLOY), 'text/plain'), 415, 'unsupported_media_type', 'text/plain body');
    const huge = JSON.stringify({ ...DEPLOY, reason: 'x '.repeat(40_000) });
    await refuses(() => raw('alice', '/requests', huge, 'application/json'), 413, 'body_too_large', 'oversized body');
    await refuses(
      () => h.api('alice', 'POST', '/requests', { ...DEPLOY, context: { blob: 'y'.repeat(5000) } }),
      400,
      'body_invalid',
      'context over 4096 bytes',
    );
  });

  test('request ids: another principal’s request and an unknown one are 404 alike', async () => {
    for (const [method, path, body] of [
      ['GET', `/requests/${aliceRequest}`, undefined],
      ['POST', `/requests/${aliceRequest}/approve`, {}],
      ['POST', `/requests/${aliceRequest}/deny`, { reason: 'not needed right now' }],
      ['POST', `/requests/${aliceRequest}/cancel`, undefined],
    ] as const) {
      await refuses(() => h.api('bob', method, path, body), 404, 'not_found', `bob: ${method} ${path}`);
      const unknown = path.replace(aliceRequest, 'req_doesnotexist000');
      await refuses(() => h.api('carol', method, unknown, body), 404, 'not_found', `unknown: ${method} ${unknown}`);
    }
    await refuses(() => h.api('alice', 'POST', '/grants/gr_doesnotexist000/release'), 404, 'not_found', 'unknown grant');
    await refuses(() => h.api('carol', 'POST', '/grants/gr_doesnotexist000/revoke', { reason: 'closing it early' }), 404, 'not_found', 'unknown grant');
    await refuses(() => h.api('alice', 'GET', '/nothing-here'), 404, 'not_found', 'unknown route');
    // Ids that cannot be ids (PostgreSQL refuses NUL in text) name nothing either.
    await refuses(() => h.api('alice', 'GET', `/requests/${aliceRequest}%00`), 404, 'not_found', 'NUL in a request id');
    await refuses(() => h.api('carol', 'POST', '/requests/req%00x/approve', {}), 404, 'not_found', 'NUL in an id to approve');
    await refuses(() => h.api('alice', 'POST', '/grants/gr%00x/release'), 404, 'not_found', 'NUL in a grant id');
    await refuses(() => h.api('alice', 'GET', `/requests/req_${'r'.repeat(80)}`), 404, 'not_found', 'a long id');
    await refuses(() => h.api('alice', 'GET', '/grants?principal=user:alice%00'), 400, 'query_invalid', 'NUL in a principal filter');
    // Bob's own list does not show alice's request either.
    assert.ok(!(await h.api('bob', 'GET', '/requests')).body.items.some((i: any) => i.id === aliceRequest));
  });

  test('approve, deny and cancel bodies: unknown members are 400, a denial without reason is 422', async () => {
    const at = (verb: string) => `/requests/${aliceRequest}/${verb}`;
    const extra = await refuses(() => h.api('carol', 'POST', at('approve'), { comment: 'fine', approve: true }), 400, 'body_invalid', 'unknown member in approve');
    assert.match(extra.body.detail, /approve/);
    await refuses(() => h.api('carol', 'POST', at('approve'), { comment: 42 }), 400, 'body_invalid', 'comment not text');
    await refuses(() => h.api('carol', 'POST', at('approve'), ['ok']), 400, 'body_invalid', 'approve body an array');
    await refuses(() => h.api('carol', 'POST', at('deny'), { reason: 'no', note: 'x' }), 400, 'body_invalid', 'unknown member in deny');
    await refuses(() => h.api('carol', 'POST', at('deny'), {}), 422, 'reason_required', 'deny without reason');
    await refuses(() => h.api('carol', 'POST', at('deny'), { reason: '  ' }), 422, 'reason_required', 'deny with a blank reason');
    await refuses(() => h.api('carol', 'POST', at('deny'), { reason: 'not\u0000now' }), 400, 'body_invalid', 'NUL in a denial');
    await refuses(() => h.api('carol', 'POST', at('approve'), { comment: 'fine\u0000' }), 400, 'body_invalid', 'NUL in a comment');
    await refuses(() => h.api('carol', 'POST', at('deny')), 422, 'reason_required', 'deny with no body');
    await refuses(() => h.api('alice', 'POST', at('cancel'), { why: 'changed my mind' }), 400, 'body_invalid', 'cancel takes no body');
    await refuses(() => raw('carol', at('approve'), 'comment=fine', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type', 'form-encoded approval');

    // Nothing of that touched the request.
    const view = await h.api('alice', 'GET', `/requests/${aliceRequest}`);
    assert.equal(view.body.status, 'pending');
    assert.deepEqual(view.body.stages[0].approvals, []);
  });

  test('query parameters out of range are 400', async () => {
    await refuses(() => h.api('alice', 'GET', '/requests?status=open'), 400, 'query_invalid', 'unknown status');
    await refuses(() => h.api('alice', 'GET', '/requests?mine=perhaps'), 400, 'query_invalid', 'mine not a boolean');
    await refuses(() => h.api('alice', 'GET', '/requests?limit=0'), 400, 'query_invalid', 'limit 0');
    await refuses(() => h.api('alice', 'GET', '/grants?status=live'), 400, 'query_invalid', 'unknown grant status');
    await refuses(() => h.api('alice', 'GET', '/grants?review=maybe'), 400, 'query_invalid', 'unknown review');
  });

  test('bearer tokens: missing, malformed, foreign, for another audience, revoked or expired are 401 with a challenge', async () => {
    const unauthorized = async (token: string | null, code: string, what: string) => {
      const res = await refuses(() => h.api({ token }, 'POST', '/requests', DEPLOY), 401, code, what);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer /, `${what}: WWW-Authenticate`);
      if (code === 'invalid_token') assert.match(challenge, /error="invalid_token"/, what);
      return res;
    };
    await unauthorized(null, 'unauthorized', 'no token');
    await unauthorized('garbage', 'invalid_token', 'not a JWT');
    await unauthorized('a.b.c', 'invalid_token', 'three dots of nothing');

    // A token byte-for-byte different from the one issued (a changed signature) is not ours.
    const alice = h.tokens.alice!;
    const tampered = `${alice.slice(0, -4)}${alice.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await unauthorized(tampered, 'invalid_token', 'tampered token');

    const basicHeader = await fetch(`${h.srv.url}/api/v1/me`, { headers: { authorization: basic('ci-pipeline', SECRETS['ci-pipeline']) } });
    assert.equal(basicHeader.status, 401);
    assert.match(basicHeader.headers.get('www-authenticate') ?? '', /^Bearer /);

    // A token for a resource server, not for jitgate's own API.
    const foreign = await postForm(`${h.srv.url}/token`, { grant_type: 'client_credentials', resource: 'https://deploy.internal' }, { authorization: basic('ci-pipeline', SECRETS['ci-pipeline']) });
    assert.equal(foreign.status, 200, JSON.stringify(foreign.body));
    const wrongAud = await unauthorized(foreign.body.access_token, 'invalid_token', 'token for another audience');
    assert.match(wrongAud.body.detail, /https:\/\/deploy\.internal/);

    // Revoked at the revocation endpoint by the client it was issued to.
    const ci = await h.clientToken('ci-pipeline');
    assert.equal((await h.api('client:ci-pipeline', 'GET', '/me')).status, 200);
    const revoked = await postForm(`${h.srv.url}/revoke`, { token: ci }, { authorization: basic('ci-pipeline', SECRETS['ci-pipeline']) });
    assert.equal(revoked.status, 200);
    await unauthorized(ci, 'invalid_token', 'revoked token');

    // A token naming an expiry or key we never issued is not ours, whatever its claims say.
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await unauthorized(`${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'nope' })}.${b64({ jti: 'nope', sub: 'user:alice' })}.c2ln`, 'invalid_token', 'forged token');

    // Fifteen minutes later every token of this test has expired.
    h.clock.advance(900);
    await unauthorized(h.tokens.alice!, 'invalid_token', 'expired token');
    await refuses(() => h.api('carol', 'POST', `/requests/${aliceRequest}/approve`, {}), 401, 'invalid_token', 'expired approver token');
  });

  test(
    'an id longer than the router’s parameter limit is refused as problem+json',
    async () => {
      const res = await h.api('alice', 'GET', `/requests/${'r'.repeat(500)}`);
      assert.ok(res.status === 404 || res.status === 414, String(res.status));
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    },
  );

  test(
    'a forged token whose jti holds a NUL is 401, not a store error',
    async () => {
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const forged = `${b64({ alg: 'ES256', kid: 'k' })}.${b64({ jti: 'a\u0000b' })}.c2ln`;
      assertProblem(await h.api({ token: forged }, 'GET', '/me'), 401, 'invalid_token');
    },
  );
});
