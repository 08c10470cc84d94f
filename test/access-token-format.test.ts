import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { openStore, type Store } from '../src/store/open.js';
import { Kek } from '../src/tokens/kek.js';
import { Keyring } from '../src/tokens/keyring.js';
import { mintAccessToken, mintAccessTokenOffThread } from '../src/tokens/mint.js';
import { verifyAccessToken } from '../src/tokens/verify.js';
import { newJti, tokenHash } from '../src/tokens/token-hash.js';
import type { AccessTokenClaims } from '../src/tokens/claims.js';

const ISSUER = 'https://jitgate.test';
const AUDIENCE = 'https://deploy.internal';
const NOW = 1_800_000_000;

function claims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return {
    iss: ISSUER,
    sub: 'user:alice',
    aud: AUDIENCE,
    client_id: 'jitgate-cli',
    scope: 'read:logs deploy:prod',
    jti: newJti(),
    iat: NOW,
    exp: NOW + 900,
    acr: 'urn:jitgate:mfa',
    amr: ['pwd', 'otp'],
    auth_time: NOW - 120,
    grant: 'gr_7f3k2',
    ...overrides,
  };
}

/** Re-signs `header.payload` with `key` the way a forger with another key would. */
function forge(header: object, payload: object, key: Parameters<typeof sign>[2]): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: key as never, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

describe('access tokens: RFC 9068 format, verified by jose and refused when wrong', () => {
  let store: Store;
  let keyring: Keyring;

  before(async () => {
    store = await openStore('sqlite::memory:');
    keyring = await Keyring.open(store, Kek.generate(), { now: () => NOW });
  });
  after(() => store.close());

  test('a minted token verifies with jose against the published JWKS and carries every claim', async () => {
    const signer = keyring.signer(NOW);
    const expected = claims();
    const token = mintAccessToken(signer, expected);

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keyring.jwks(NOW)), {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(NOW * 1000),
    });
    assert.deepEqual(protectedHeader, { alg: 'ES256', typ: 'at+jwt', kid: signer.kid });
    assert.deepEqual(payload, expected);
    assert.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, 64, 'ES256 signature is r‖s, 64 bytes');

    assert.deepEqual(await verifyAccessToken(keyring, token, { issuer: ISSUER, audience: AUDIENCE, now: NOW }), expected);
  });

  test('optional claims are left out when not given; unknown input properties are not copied', async () => {
    const { acr, amr, auth_time, grant, ...required } = claims();
    void [acr, amr, auth_time, grant];
    const token = mintAccessToken(keyring.signer(NOW), { ...required, extra: 'x' } as AccessTokenClaims);
    const { payload } = await jwtVerify(token, createLocalJWKSet(keyring.jwks(NOW)), { currentDate: new Date(NOW * 1000) });
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    assert.deepEqual(await verifyAccessToken(keyring, token, { issuer: ISSUER, now: NOW }), required);
  });

  test('the off-thread mint makes a token that verifies the same way', async () => {
    const expected = claims();
    const token = await mintAccessTokenOffThread(keyring.signer(NOW), expected);
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'ES256', typ: 'at+jwt', kid: keyring.signer(NOW).kid });
    assert.deepEqual(await verifyAccessToken(keyring, token, { issuer: ISSUER, audience: AUDIENCE, now: NOW }), expected);
  });

  test('a tampered signature or payload is token_invalid', async () => {
    const token = mintAccessToken(keyring.signer(NOW), claims());
    const [h, p, s] = token.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10] = sig[10]! ^ 0x01;
    await assert.rejects(verifyAccessToken(keyring, `${h}.${p}.${sig.toString('base64url')}`, { issuer: ISSUER, now: NOW }), {
      code: 'token_invalid',
    });
    const widened = Buffer.from(JSON.stringify({ ...claims(), scope: 'admin:billing' })).toString('base64url');
    await assert.rejects(verifyAccessToken(keyring, `${h}.${widened}.${s}`, { issuer: ISSUER, now: NOW }), {
      code: 'token_invalid',
    });
    await assert.rejects(verifyAccessToken(keyring, 'not-a-jwt', { issuer: ISSUER, now: NOW }), { code: 'token_invalid' });
  });

  test('a wrong issuer or audience is token_invalid', async () => {
    const token = mintAccessToken(keyring.signer(NOW), claims());
    await assert.rejects(verifyAccessToken(keyring, token, { issuer: 'https://other.test', now: NOW }), {
      code: 'token_invalid',
      message: /iss/,
    });
    await assert.rejects(verifyAccessToken(keyring, token, { issuer: ISSUER, audience: 'https://billing.internal', now: NOW }), {
      code: 'token_invalid',
      message: /aud/,
    });
  });

  test('a token is valid until its exp and token_expired from then on', async () => {
    const token = mintAccessToken(keyring.signer(NOW), claims({ exp: NOW + 900 }));
    await verifyAccessToken(keyring, token, { issuer: ISSUER, now: NOW + 899 });
    await assert.rejects(verifyAccessToken(keyring, token, { issuer: ISSUER, now: NOW + 900 }), { code: 'token_expired' });
    await assert.rejects(verifyAccessToken(keyring, token, { issuer: ISSUER, now: NOW + 86_400 }), { code: 'token_expired' });
  });

  test('a token signed by a key this server never published is token_unknown_key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = mintAccessToken({ kid: 'not-ours', key: privateKey }, claims());
    await assert.rejects(verifyAccessToken(keyring, token, { issuer: ISSUER, now: NOW, refreshMinIntervalS: 0 }), {
      code: 'token_unknown_key',
    });
    // Another key under our kid: the kid is known, the signature is not.
    const stolenKid = mintAccessToken({ kid: keyring.signer(NOW).kid, key: privateKey }, claims());
    await assert.rejects(verifyAccessToken(keyring, stolenKid, { issuer: ISSUER, now: NOW }), { code: 'token_invalid' });
  });

  test('a token that is not typ at+jwt, not ES256, or lacks a required claim is token_invalid', async () => {
    const signer = keyring.signer(NOW);
    const base = claims();
    const wrongTyp = forge({ alg: 'ES256', typ: 'JWT', kid: signer.kid }, base, signer.key);
    await assert.rejects(verifyAccessToken(keyring, wrongTyp, { issuer: ISSUER, now: NOW }), { code: 'token_invalid' });

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: signer.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`;
    await assert.rejects(verifyAccessToken(keyring, unsigned, { issuer: ISSUER, now: NOW }), { code: 'token_invalid' });

    const { client_id, ...noClient } = base;
    void client_id;
    const missing = forge({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid }, noClient, signer.key);
    await assert.rejects(verifyAccessToken(keyring, missing, { issuer: ISSUER, now: NOW }), { code: 'token_invalid' });

    const badAmr = forge({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid }, { ...base, amr: 'pwd' }, signer.key);
    await assert.rejects(verifyAccessToken(keyring, badAmr, { issuer: ISSUER, now: NOW }), { code: 'token_invalid' });
  });

  test('error messages never contain the token', async () => {
    const token = mintAccessToken(keyring.signer(NOW), claims({ exp: NOW + 1 }));
    for (const opts of [
      { issuer: ISSUER, now: NOW + 5 },
      { issuer: 'https://other.test', now: NOW },
      { issuer: ISSUER, audience: 'x', now: NOW },
    ]) {
      await assert.rejects(verifyAccessToken(keyring, token, opts), (err: Error) => {
        assert.ok(!err.message.includes(token.split('.')[1]!));
        assert.ok(!err.message.includes(token.split('.')[2]!));
        return true;
      });
    }
  });

  test('tokenHash is base64url SHA-256 of the token; jti is the issuing millisecond then 80 random bits', () => {
    assert.equal(tokenHash('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    const token = mintAccessToken(keyring.signer(NOW), claims());
    assert.equal(tokenHash(token), createHash('sha256').update(token).digest('base64url'));
    const atMs = NOW * 1000 + 123;
    const jtis = new Set(Array.from({ length: 1000 }, () => newJti(atMs)));
    assert.equal(jtis.size, 1000);
    for (const jti of jtis) {
      assert.match(jti, /^[0-9a-f]{12}[A-Za-z0-9_-]{14}$/);
      assert.equal(parseInt(jti.slice(0, 12), 16), atMs);
      assert.equal(Buffer.from(jti.slice(12), 'base64url').length, 10);
    }
    // Later ids sort after earlier ones, as the primary-key index sees them.
    const earlier = newJti(atMs);
    const later = newJti(atMs + 1);
    assert.ok(earlier.slice(0, 12) < later.slice(0, 12));
    assert.ok(earlier < later);
  });
});
