import { test } from 'node:test';
import assert from 'node:assert/strict';
import { URI } from 'otpauth';
import { forEachDatabase, type OpenFn } from './helpers/databases.js';
import { LocalUsers } from '../src/identity/local-users.js';
import { LoginError } from '../src/identity/login-error.js';
import { lockoutSeconds } from '../src/identity/lockout.js';
import { AuditLog } from '../src/audit/log.js';
import { Kek } from '../src/tokens/kek.js';
import { FrozenClock } from '../src/util/clock.js';

const T0_MS = 1_800_000_000_000;
const PASSWORD = 'correct horse battery staple';
const WRONG = 'wrong horse battery staple';

async function setup(open: OpenFn) {
  const store = await open();
  const clock = new FrozenClock(T0_MS);
  const kek = Kek.generate();
  const users = new LocalUsers({ store, clock, kek, audit: new AuditLog(store, clock) });
  return { store, clock, kek, users };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; retryAfterS: number | null }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof LoginError, String(err));
    return { code: err.code, retryAfterS: err.retryAfterS };
  }
  return { code: 'accepted', retryAfterS: null };
}

test('the backoff: 30 s at the fifth failure, doubling each further one, never over 15 minutes', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 50, 10_000].map(lockoutSeconds),
    [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900, 900],
  );
});

forEachDatabase('local user lockout', (open) => {
  test('five failures lock for 30 s; even the right password is refused until then; the backoff doubles', async () => {
    const { users, clock, store } = await setup(open);
    await users.add('alice', PASSWORD);
    for (let i = 0; i < 4; i++) assert.equal((await codeOf(users.login({ username: 'alice', password: WRONG }))).code, 'invalid_credentials');
    // The fifth failure is still answered as what it was; the lock applies from the next attempt.
    assert.equal((await codeOf(users.login({ username: 'alice', password: WRONG }))).code, 'invalid_credentials');
    assert.deepEqual(await codeOf(users.login({ username: 'alice', password: PASSWORD })), { code: 'locked', retryAfterS: 30 });
    clock.advance(29);
    assert.deepEqual(await codeOf(users.login({ username: 'alice', password: PASSWORD })), { code: 'locked', retryAfterS: 1 });

    clock.advance(1);
    // Unlocked, but one more failure locks again, for twice as long.
    assert.equal((await codeOf(users.login({ username: 'alice', password: WRONG }))).code, 'invalid_credentials');
    assert.deepEqual(await codeOf(users.login({ username: 'alice', password: PASSWORD })), { code: 'locked', retryAfterS: 60 });
    clock.advance(60);
    assert.equal((await codeOf(users.login({ username: 'alice', password: WRONG }))).code, 'invalid_credentials');
    assert.deepEqual(await codeOf(users.login({ username: 'alice', password: WRONG })), { code: 'locked', retryAfterS: 120 });
    clock.advance(120);

    // A success resets everything: the next failure is the first again.
    assert.equal((await codeOf(users.login({ username: 'alice', password: PASSWORD }))).code, 'accepted');
    const row = await store.db.selectFrom('users').selectAll().where('username', '=', 'alice').executeTakeFirstOrThrow();
    assert.deepEqual([Number(row.failed_attempts), row.locked_until], [0, null]);
    assert.equal((await codeOf(users.login({ username: 'alice', password: WRONG }))).code, 'invalid_credentials');
    assert.equal((await codeOf(users.login({ username: 'alice', password: PASSWORD }))).code, 'accepted');

    const events = await store.db
      .selectFrom('audit_events')
      .select(['type', 'data'])
      .where('subject', '=', 'user:alice')
      .where('type', 'in', ['user.locked', 'user.login_failed'])
      .orderBy('seq')
      .execute();
    const locks = events.filter((e) => e.type === 'user.locked').map((e) => JSON.parse(e.data));
    assert.deepEqual(locks.map((l) => [l.failures, l.lock_s]), [[5, 30], [6, 60], [7, 120]]);
    const refusedWhileLocked = events.filter((e) => e.type === 'user.login_failed' && JSON.parse(e.data).code === 'locked');
    assert.equal(refusedWhileLocked.length, 4);
  });

  test('wrong TOTP codes count like wrong passwords; a missing code does not count, nor reset', async () => {
    const { users, clock } = await setup(open);
    await users.add('bob', PASSWORD);
    const { uri } = await users.enrollTotp('bob', 'jitgate');
    const right = URI.parse(uri).generate({ timestamp: clock.nowMs() });
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) {
      assert.equal((await codeOf(users.login({ username: 'bob', password: PASSWORD, otp: wrong }))).code, 'otp_invalid');
      assert.equal((await codeOf(users.login({ username: 'bob', password: PASSWORD }))).code, 'otp_required');
    }
    assert.equal((await codeOf(users.login({ username: 'bob', password: PASSWORD, otp: wrong }))).code, 'otp_invalid');
    assert.deepEqual(await codeOf(users.login({ username: 'bob', password: PASSWORD, otp: right })), { code: 'locked', retryAfterS: 30 });
  });

  test('parallel wrong guesses all count, and the lock holds on every node sharing the database', async () => {
    const { users, clock, store, kek } = await setup(open);
    await users.add('carol', PASSWORD);
    const otherStore = await open({ sameDatabaseAs: store });
    const otherNode = new LocalUsers({ store: otherStore, clock, kek, audit: new AuditLog(otherStore, clock) });
    const guesses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => codeOf((i % 2 ? otherNode : users).login({ username: 'carol', password: `${WRONG} ${i}` }))),
    );
    // Each guess was hashed before any lock existed; some may have found the lock already set when they were counted.
    for (const g of guesses) assert.ok(['invalid_credentials', 'locked'].includes(g.code), g.code);
    const row = await store.db.selectFrom('users').selectAll().where('username', '=', 'carol').executeTakeFirstOrThrow();
    assert.equal(Number(row.failed_attempts), 8, 'no guess was lost to a race');
    assert.equal(Number(row.locked_until), T0_MS / 1000 + lockoutSeconds(8));

    // The other node (and a restarted one) sees the same lock.
    const restarted = new LocalUsers({ store, clock, kek, audit: new AuditLog(store, clock) });
    assert.deepEqual(await codeOf(otherNode.login({ username: 'carol', password: PASSWORD })), { code: 'locked', retryAfterS: 240 });
    assert.deepEqual(await codeOf(restarted.login({ username: 'carol', password: PASSWORD })), { code: 'locked', retryAfterS: 240 });
    clock.advance(240);
    assert.equal((await codeOf(otherNode.login({ username: 'carol', password: PASSWORD }))).code, 'accepted');
  });

  test('an operator setting a new password lifts the lock', async () => {
    const { users } = await setup(open);
    await users.add('dave', PASSWORD);
    for (let i = 0; i < 5; i++) await codeOf(users.login({ username: 'dave', password: WRONG }));
    assert.equal((await codeOf(users.login({ username: 'dave', password: PASSWORD }))).code, 'locked');
    await users.setPassword('dave', 'a new passphrase for dave');
    assert.equal((await codeOf(users.login({ username: 'dave', password: 'a new passphrase for dave' }))).code, 'accepted');
    assert.deepEqual((await users.list()).map((u) => [u.failedAttempts, u.lockedUntil]), [[0, null]]);
  });
});
