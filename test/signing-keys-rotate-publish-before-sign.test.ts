import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import { forEachDatabase } from './helpers/databases.js';
import { Kek } from '../src/tokens/kek.js';
import { Keyring } from '../src/tokens/keyring.js';
import { rotateSigningKey } from '../src/tokens/rotate.js';
import { mintAccessToken } from '../src/tokens/mint.js';
import { verifyAccessToken } from '../src/tokens/verify.js';
import { newJti } from '../src/tokens/token-hash.js';
import type { Signer } from '../src/tokens/signer.js';
import type { Store } from '../src/store/open.js';

const run = promisify(execFile);
const ISSUER = 'https://jitgate.test';
const T0 = 1_800_000_000;
const DELAY = 300;
const LIFETIME = 3600;

/** A clock the test moves by hand; the keyring reads it through `now`. */
function clock(start: number) {
  const c = { t: start, now: () => c.t };
  return c;
}

function kids(keyring: Keyring, at: number): string[] {
  return keyring.jwks(at).keys.map((k) => k.kid);
}

function token(signer: Signer, iat: number, exp: number): string {
  return mintAccessToken(signer, {
    iss: ISSUER,
    sub: 'client:ci-pipeline',
    aud: 'https://deploy.internal',
    client_id: 'ci-pipeline',
    scope: 'read:logs',
    jti: newJti(),
    iat,
    exp,
  });
}

async function rowCount(store: Store): Promise<number> {
  const rows = await store.db.selectFrom('signing_keys').select('kid').execute();
  return rows.length;
}

forEachDatabase('signing keys: rotation publishes before it signs', (open, dialect) => {
  test('the first open creates one key that signs at once; later opens reuse it', async () => {
    const store = await open();
    const kek = Kek.generate();
    const c = clock(T0);
    const keyring = await Keyring.open(store, kek, { now: c.now });

    const jwks = keyring.jwks(T0);
    assert.equal(jwks.keys.length, 1);
    const jwk = jwks.keys[0]!;
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(jwk.alg, 'ES256');
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.kid, await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'sha256'));
    assert.equal(keyring.signer(T0).kid, jwk.kid);

    const rows = await store.db.selectFrom('signing_keys').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.signs_from, T0);
    assert.equal(rows[0]!.superseded_at, null);
    assert.equal(rows[0]!.publish_until, null);
    const pkcs8 = keyring.signer(T0).key.export({ format: 'der', type: 'pkcs8' });
    assert.ok(!Buffer.from(rows[0]!.private_enc, 'base64url').includes(pkcs8.subarray(-32)), 'the private key is stored sealed');

    const again = await Keyring.open(await open({ sameDatabaseAs: store }), kek, { now: () => T0 + 10 });
    assert.equal(again.signer(T0 + 10).kid, jwk.kid);
    assert.equal(await rowCount(store), 1);
  });

  test('a KEK that did not seal the keys is refused with kek_mismatch, by open and by rotate', async () => {
    const store = await open();
    await Keyring.open(store, Kek.generate(), { now: () => T0 });
    const wrong = Kek.generate();

    await assert.rejects(Keyring.open(store, wrong, { now: () => T0 }), { code: 'kek_mismatch' });
    await assert.rejects(
      rotateSigningKey(store, wrong, { now: T0 + 60, publishDelayS: DELAY, maxTokenLifetimeS: LIFETIME }),
      { code: 'kek_mismatch' },
    );
    assert.equal(await rowCount(store), 1, 'a refused rotation adds no key');
  });

  test('a sealed key moved onto another row does not open', async () => {
    const store = await open();
    const kek = Kek.generate();
    const c = clock(T0);
    const keyring = await Keyring.open(store, kek, { now: c.now });
    const first = keyring.signer(T0).kid;
    const { kid: second } = await rotateSigningKey(store, kek, { now: T0, publishDelayS: DELAY, maxTokenLifetimeS: LIFETIME });
    const firstRow = await store.db.selectFrom('signing_keys').selectAll().where('kid', '=', first).executeTakeFirstOrThrow();
    await store.db.updateTable('signing_keys').set({ private_enc: firstRow.private_enc }).where('kid', '=', second).execute();

    await assert.rejects(keyring.refresh(), { code: 'kek_mismatch' });
    assert.deepEqual(kids(keyring, T0), [first], 'a failed refresh keeps the keys already loaded');
  });

  test('rotation: new key published at once, signs after the delay; old key verifies until publish_until, then leaves', async () => {
    const store = await open();
    const kek = Kek.generate();
    const c = clock(T0);
    const server = await Keyring.open(store, kek, { now: c.now });
    const oldKid = server.signer(T0).kid;

    // A second process on the same database, e.g. another node.
    const c2 = clock(T0);
    const other = await Keyring.open(await open({ sameDatabaseAs: store }), kek, { now: c2.now });
    assert.equal(other.signer(T0).kid, oldKid);

    const T1 = T0 + 86_400;
    c.t = T1;
    c2.t = T1;
    const oldToken = token(server.signer(T1), T1, T1 + LIFETIME);
    const result = await rotateSigningKey(store, kek, { now: T1, publishDelayS: DELAY, maxTokenLifetimeS: LIFETIME });
    const newKid = result.kid;
    assert.notEqual(newKid, oldKid);
    assert.equal(result.signsFrom, T1 + DELAY);
    assert.deepEqual(result.previous, { kid: oldKid, publishUntil: T1 + DELAY + LIFETIME });

    // Before a refresh the other node knows only the old key...
    assert.deepEqual(kids(other, T1), [oldKid]);
    await other.refresh();
    // ...after it, both are published, newest first, and the old one still signs.
    for (const keyring of [server, other]) {
      await keyring.refresh();
      assert.deepEqual(kids(keyring, T1), [newKid, oldKid]);
      assert.equal(keyring.signer(T1).kid, oldKid);
      assert.equal(keyring.signer(T1 + DELAY - 1).kid, oldKid);
      assert.equal(keyring.signer(T1 + DELAY).kid, newKid);
      assert.deepEqual(kids(keyring, T1 + DELAY + LIFETIME - 1), [newKid, oldKid]);
      assert.deepEqual(kids(keyring, T1 + DELAY + LIFETIME), [newKid]);
      assert.ok(keyring.verificationKey(oldKid, T1 + DELAY + LIFETIME - 1));
      assert.equal(keyring.verificationKey(oldKid, T1 + DELAY + LIFETIME), undefined);
    }

    // The last token the old key signs (just before the hand-over) still
    // verifies until it expires, and the old key is still published then.
    const lastOld = T1 + DELAY - 1;
    const lastOldToken = token(other.signer(lastOld), lastOld, lastOld + LIFETIME);
    const newToken = token(other.signer(T1 + DELAY), T1 + DELAY, T1 + DELAY + LIFETIME);
    for (const [t, at] of [
      [oldToken, T1 + LIFETIME - 1],
      [lastOldToken, lastOld + LIFETIME - 1],
      [newToken, T1 + DELAY + 1],
    ] as const) {
      const claims = await verifyAccessToken(server, t, { issuer: ISSUER, now: at });
      assert.equal(claims.sub, 'client:ci-pipeline');
    }
    // Once the old key has left the JWKS, even a token that has not expired
    // (signed with a longer lifetime than promised) is refused.
    const overlong = token(server.signer(T1), T1, T1 + 10 * LIFETIME);
    await assert.rejects(verifyAccessToken(server, overlong, { issuer: ISSUER, now: T1 + DELAY + LIFETIME }), {
      code: 'token_unknown_key',
    });

    const stored = await store.db.selectFrom('signing_keys').selectAll().where('kid', '=', oldKid).executeTakeFirstOrThrow();
    assert.equal(stored.superseded_at, T1 + DELAY);
    assert.equal(stored.publish_until, T1 + DELAY + LIFETIME);
  });

  test('a verifier meeting an unknown kid re-reads the keys once and then accepts it', async () => {
    const store = await open();
    const kek = Kek.generate();
    const writer = await Keyring.open(store, kek, { now: () => T0 });
    const reader = await Keyring.open(await open({ sameDatabaseAs: store }), kek, { now: () => T0 });
    await rotateSigningKey(store, kek, { now: T0, publishDelayS: 0, maxTokenLifetimeS: LIFETIME });
    await writer.refresh();
    const fresh = token(writer.signer(T0), T0, T0 + 60);
    // The re-read is rate-limited: a reader that read the keys less than
    // an hour ago does not read them again for an unknown kid...
    await assert.rejects(verifyAccessToken(reader, fresh, { issuer: ISSUER, now: T0, refreshMinIntervalS: 3600 }), {
      code: 'token_unknown_key',
    });
    // ...and once the interval allows, the unknown kid makes it read and accept.
    const claims = await verifyAccessToken(reader, fresh, { issuer: ISSUER, now: T0, refreshMinIntervalS: 0 });
    assert.equal(claims.iss, ISSUER);
    assert.deepEqual(kids(reader, T0)[0], writer.signer(T0).kid);
  });

  test('two rotations inside one publish delay hand over in order and never revive a skipped key', async () => {
    const store = await open();
    const kek = Kek.generate();
    const c = clock(T0);
    const keyring = await Keyring.open(store, kek, { now: c.now });
    const a = keyring.signer(T0).kid;
    const b = await rotateSigningKey(store, kek, { now: T0 + 100, publishDelayS: DELAY, maxTokenLifetimeS: LIFETIME });
    const cRot = await rotateSigningKey(store, kek, { now: T0 + 200, publishDelayS: DELAY, maxTokenLifetimeS: LIFETIME });
    assert.deepEqual(cRot.previous, { kid: b.kid, publishUntil: T0 + 500 + LIFETIME });
    c.t = T0 + 200;
    await keyring.refresh();
    assert.deepEqual(kids(keyring, T0 + 200), [cRot.kid, b.kid, a]);
    assert.equal(keyring.signer(T0 + 399).kid, a);
    assert.equal(keyring.signer(T0 + 400).kid, b.kid);
    assert.equal(keyring.signer(T0 + 499).kid, b.kid);
    assert.equal(keyring.signer(T0 + 500).kid, cRot.kid);
    assert.equal(keyring.signer(T0 + 5000).kid, cRot.kid);
  });

  test('after a lost KEK, retiring every key (as docs/keys.md says) lets a new KEK start a new key', async () => {
    const store = await open();
    const lost = await Keyring.open(store, Kek.generate(), { now: () => T0 });
    const oldKid = lost.signer(T0).kid;
    const fresh = Kek.generate();
    const NOW = T0 + 5000;
    await assert.rejects(Keyring.open(store, fresh, { now: () => NOW }), { code: 'kek_mismatch' });

    await store.db
      .updateTable('signing_keys')
      .set((eb) => ({ superseded_at: eb.fn.coalesce('superseded_at', eb.val(NOW)), publish_until: NOW }))
      .where((eb) => eb.or([eb('publish_until', 'is', null), eb('publish_until', '>', NOW)]))
      .execute();

    const keyring = await Keyring.open(store, fresh, { now: () => NOW });
    assert.notEqual(keyring.signer(NOW).kid, oldKid);
    assert.deepEqual(kids(keyring, NOW), [keyring.signer(NOW).kid]);
    assert.equal(await rowCount(store), 2, 'the retired key keeps its row (audit checkpoints need its public part)');
    const rotated = await rotateSigningKey(store, fresh, { now: NOW + 10, publishDelayS: DELAY, maxTokenLifetimeS: LIFETIME });
    assert.equal(rotated.previous?.kid, keyring.signer(NOW).kid);
  });

  test('processes opening a new database together create a single key', async () => {
    const store = await open();
    const kekText = randomBytes(32).toString('base64');
    let signed: string[];
    if (dialect === 'sqlite') {
      // One better-sqlite3 connection per process, as in production: in-process
      // siblings would block each other's thread on the file lock.
      const script = fileURLToPath(new URL('./fixtures/keyring-open-process.ts', import.meta.url));
      const env = { ...process.env, JITGATE_KEK: kekText };
      const outputs = await Promise.all(
        [1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', script, store.url, String(T0)], { env })),
      );
      signed = outputs.map((o) => o.stdout.trim());
    } else {
      const kek = Kek.fromBytes(Buffer.from(kekText, 'base64'));
      const stores = [store, await open({ sameDatabaseAs: store }), await open({ sameDatabaseAs: store })];
      const keyrings = await Promise.all(stores.map((s) => Keyring.open(s, kek, { now: () => T0 })));
      signed = keyrings.map((k) => k.signer(T0).kid);
    }
    assert.equal(new Set(signed).size, 1, `all signed with one key: ${signed.join(', ')}`);
    assert.equal(await rowCount(store), 1);
  });
});
