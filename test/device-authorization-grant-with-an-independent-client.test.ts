import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, type TestServer } from './helpers/server.js';
import { FrozenClock } from '../src/util/clock.js';
import { MFA_ACR } from '../src/identity/mfa.js';
import {
  approveDeviceAuthorization,
  denyDeviceAuthorization,
  findDeviceAuthorization,
  normalizeUserCode,
} from '../src/oauth/device-codes.js';
import type { AuthenticatedPerson } from '../src/identity/person.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const START_MS = Date.parse('2026-11-24T09:00:00Z');

/** The RFC 8628 error a poll was refused with. */
async function pollError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) return err.error;
    throw err;
  }
  throw new Error('the poll succeeded');
}

forEachDatabase('device authorization grant (RFC 8628) with an independent client', (open) => {
  let srv: TestServer;
  let as: oauth.AuthorizationServer;
  const clock = new FrozenClock(START_MS);
  const cli: oauth.Client = { client_id: 'jitgate-cli' };
  const none = oauth.None();
  const alice = (): AuthenticatedPerson => ({
    principal: 'user:alice',
    amr: ['pwd', 'otp', 'mfa'],
    acr: MFA_ACR,
    authTime: Math.floor(clock.nowMs() / 1000) - 5,
  });

  const start = async (params: Record<string, string> = { scope: 'read:logs' }) =>
    oauth.processDeviceAuthorizationResponse(as, cli, await oauth.deviceAuthorizationRequest(as, cli, none, params, insecure));
  const poll = async (deviceCode: string) =>
    oauth.processDeviceCodeResponse(as, cli, await oauth.deviceCodeGrantRequest(as, cli, none, deviceCode, insecure));

  before(async () => {
    srv = await startTestServer({ open, clock });
    const issuer = new URL(srv.ctx.config.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(() => srv.close());

  test('discovery names the device authorization endpoint and the grant', () => {
    assert.equal(as.device_authorization_endpoint, `${srv.ctx.config.issuer}/device_authorization`);
    assert.ok(as.grant_types_supported?.includes(DEVICE_CODE));
    assert.ok(as.grant_types_supported?.includes('refresh_token'));
  });

  test('pending, slow_down, approval, a working token, then the code is spent', async () => {
    const da = await start();
    assert.match(da.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(da.verification_uri, `${srv.ctx.config.issuer}/device`);
    assert.equal(da.verification_uri_complete, `${srv.ctx.config.issuer}/device?user_code=${da.user_code}`);
    assert.equal(da.expires_in, 600);
    assert.equal(da.interval, 5);

    assert.equal(await pollError(poll(da.device_code)), 'authorization_pending');
    // At once again: too fast, and the interval grows to 10 s for good.
    assert.equal(await pollError(poll(da.device_code)), 'slow_down');
    clock.advance(6);
    assert.equal(await pollError(poll(da.device_code)), 'slow_down', 'the interval was 10 s; now 15 s');
    clock.advance(15);
    assert.equal(await pollError(poll(da.device_code)), 'authorization_pending');

    const shown = await findDeviceAuthorization(srv.ctx, da.user_code.toLowerCase().replace('-', ''));
    assert.deepEqual(shown && { clientId: shown.clientId, scope: shown.scope }, { clientId: 'jitgate-cli', scope: ['read:logs'] });
    assert.equal(await approveDeviceAuthorization(srv.ctx, da.user_code.toLowerCase(), alice()), true);
    assert.equal(await approveDeviceAuthorization(srv.ctx, da.user_code, alice()), false, 'approved once only');
    assert.equal(await findDeviceAuthorization(srv.ctx, da.user_code), null, 'no longer pending');

    clock.advance(15);
    const tokens = await poll(da.device_code);
    assert.equal(tokens.scope, 'read:logs');
    assert.equal(typeof tokens.refresh_token, 'string');
    assert.match(tokens.refresh_token!, /^[A-Za-z0-9_-]{43}$/);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.sub, 'user:alice');
    assert.equal(claims.client_id, 'jitgate-cli');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, MFA_ACR);

    const me = await fetch(`${srv.url}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as any).principal, 'user:alice');

    clock.advance(15);
    assert.equal(await pollError(poll(da.device_code)), 'invalid_grant', 'a device code gives one token');

    const approved = await srv.ctx.store.db.selectFrom('audit_events').select(['actor', 'data']).where('type', '=', 'device_authorization.approved').execute();
    assert.equal(approved.length, 1);
    assert.equal(approved[0]!.actor, 'user:alice');
    assert.ok(!JSON.stringify(approved).includes(da.device_code), 'the device code is not in the audit log');
  });

  test('a refused device gets access_denied', async () => {
    const da = await start();
    assert.equal(await denyDeviceAuthorization(srv.ctx, da.user_code), true);
    assert.equal(await pollError(poll(da.device_code)), 'access_denied');
    assert.equal(await approveDeviceAuthorization(srv.ctx, da.user_code, alice()), false, 'a denial is final');
  });

  test('an expired device code gets expired_token and can no longer be approved', async () => {
    const da = await start();
    clock.advance(600);
    assert.equal(await findDeviceAuthorization(srv.ctx, da.user_code), null);
    assert.equal(await approveDeviceAuthorization(srv.ctx, da.user_code, alice()), false);
    assert.equal(await pollError(poll(da.device_code)), 'expired_token');
  });

  test('another client cannot redeem the device code, and nothing unknown is accepted', async () => {
    const da = await start();
    assert.equal(await approveDeviceAuthorization(srv.ctx, da.user_code, alice()), true);
    const other = await postForm(`${srv.url}/token`, { grant_type: DEVICE_CODE, device_code: da.device_code }, { authorization: basic('ci-pipeline', SECRETS['ci-pipeline']) });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_grant');
    const bogus = await postForm(`${srv.url}/token`, { grant_type: DEVICE_CODE, client_id: 'jitgate-cli', device_code: 'x'.repeat(43) });
    assert.equal(bogus.body.error, 'invalid_grant');
    const missing = await postForm(`${srv.url}/token`, { grant_type: DEVICE_CODE, client_id: 'jitgate-cli' });
    assert.equal(missing.body.error, 'invalid_request');

    const unknownScope = await postForm(`${srv.url}/device_authorization`, { client_id: 'jitgate-cli', scope: 'read:logs no:such' });
    assert.equal(unknownScope.status, 400);
    assert.equal(unknownScope.body.error, 'invalid_scope');
    const unknownResource = await postForm(`${srv.url}/device_authorization`, { client_id: 'jitgate-cli', resource: 'https://nowhere.internal' });
    assert.equal(unknownResource.body.error, 'invalid_target');
    const noClient = await postForm(`${srv.url}/device_authorization`, { scope: 'read:logs' });
    assert.equal(noClient.status, 401);
    assert.equal(noClient.body.error, 'invalid_client');
  });

  test('a scope the person does not hold is refused at the poll and leaves the code unspent', async () => {
    const da = await start({ scope: 'read:billing' });
    assert.equal(await approveDeviceAuthorization(srv.ctx, da.user_code, alice()), true);
    assert.equal(await pollError(poll(da.device_code)), 'invalid_scope');
    const row = await srv.ctx.store.db.selectFrom('device_authorizations').select('status').where('user_code', '=', normalizeUserCode(da.user_code)!).executeTakeFirstOrThrow();
    assert.equal(row.status, 'approved');
  });

  test('device authorizations are limited per address', async () => {
    clock.advance(301); // a fresh window
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof postForm>> | null = null;
    for (let i = 0; i < 31 && !limited; i++) {
      const res = await postForm(`${srv.url}/device_authorization`, { client_id: 'jitgate-cli' });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.deepEqual(statuses, [...Array(30).fill(200), 429]);
    assert.equal(limited!.body.error, 'temporarily_unavailable');
    assert.equal(limited!.headers.get('retry-after'), '300');
    clock.advance(301);
  });

  test('wrong user codes are limited per caller', async () => {
    const from = 'guesser-address';
    for (let i = 0; i < 20; i++) assert.equal(await findDeviceAuthorization(srv.ctx, 'BCDF-GHJK', { from }), null);
    const da = await start();
    assert.equal(await findDeviceAuthorization(srv.ctx, da.user_code, { from }), null, 'blocked even for a right code');
    assert.notEqual(await findDeviceAuthorization(srv.ctx, da.user_code, { from: 'someone-else' }), null);
    clock.advance(301);
    // The window has passed; the device code has expired meanwhile too.
    assert.equal(await findDeviceAuthorization(srv.ctx, 'not a code', { from }), null);
  });
});

describe('user codes', () => {
  test('normalize case-insensitively without the dash, and refuse other alphabets', () => {
    assert.equal(normalizeUserCode('bcdf-ghjk'), 'BCDFGHJK');
    assert.equal(normalizeUserCode(' BCDF GHJK '), 'BCDFGHJK');
    assert.equal(normalizeUserCode('ABCD-EFGH'), null, 'vowels are not in the alphabet');
    assert.equal(normalizeUserCode('BCDF-GHJ'), null);
  });
});
