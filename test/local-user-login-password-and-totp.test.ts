import { test } from 'node:test';
import assert from 'node:assert/strict';
import { URI, TOTP } from 'otpauth';
import { forEachDatabase, type OpenFn } from './helpers/databases.js';
import { LocalUsers } from '../src/identity/local-users.js';
import { LoginError } from '../src/identity/login-error.js';
import { MFA_ACR } from '../src/identity/mfa.js';
import { AuditLog } from '../src/audit/log.js';
import { Kek } from '../src/tokens/kek.js';
import { FrozenClock } from '../src/util/clock.js';
import type { Store } from '../src/store/open.js';

const T0_MS = 1_800_000_010_000; // 10 s into a 30 s step
const PASSWORD = 'correct horse battery staple';

async function setup(open: OpenFn) {
  const store = await open();
  const clock = new FrozenClock(T0_MS);
  const kek = Kek.generate();
  const users = new LocalUsers({ store, clock, kek, audit: new AuditLog(store, clock) });
  return { store, clock, kek, users };
}

/** What an authenticator app holding the enrolled URI shows at `ms`. */
function appCode(uri: string, ms: number): string {
  const otp = URI.parse(uri);
  assert.ok(otp instanceof TOTP);
  return otp.generate({ timestamp: ms });
}

async function refusal(p: Promise<unknown>): Promise<LoginError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof LoginError, `expected a LoginError, got ${String(err)}`);
    return err;
  }
  assert.fail('the login was accepted');
}

async function userEvents(store: Store) {
  const rows = await store.db
    .selectFrom('audit_events')
    .select(['type', 'subject', 'data'])
    .where('type', 'like', 'user.%')
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ type: r.type, subject: r.subject, data: JSON.parse(r.data) as Record<string, unknown> }));
}

forEachDatabase('local user login', (open) => {
  test('password only: user:<name>, amr pwd, no acr, auth_time now', async () => {
    const { users } = await setup(open);
    await users.add('alice', PASSWORD);
    const person = await users.login({ username: 'alice', password: PASSWORD });
    assert.deepEqual(person, { principal: 'user:alice', amr: ['pwd'], acr: null, authTime: T0_MS / 1000 });
    // What people type at a form: surrounding spaces and capitals (ASCII) name the same user.
    assert.equal((await users.login({ username: ' Alice ', password: PASSWORD })).principal, 'user:alice');
  });

  test('with TOTP enrolled: the code is required, and a login with it is MFA', async () => {
    const { users, clock, store } = await setup(open);
    await users.add('bob', PASSWORD);
    const { secret, uri } = await users.enrollTotp('bob', 'jitgate test');
    assert.match(uri, /^otpauth:\/\/totp\/jitgate%20test:bob\?/);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.ok(uri.includes(`secret=${secret}`));

    const missing = await refusal(users.login({ username: 'bob', password: PASSWORD }));
    assert.equal(missing.code, 'otp_required');
    // A wrong password with TOTP enrolled says nothing about TOTP.
    assert.equal((await refusal(users.login({ username: 'bob', password: 'not the password' }))).code, 'invalid_credentials');

    const shown = appCode(uri, clock.nowMs());
    // Typed the way the app shows it, "123 456".
    const person = await users.login({ username: 'bob', password: PASSWORD, otp: `${shown.slice(0, 3)} ${shown.slice(3)}` });
    assert.deepEqual(person, { principal: 'user:bob', amr: ['pwd', 'otp', 'mfa'], acr: MFA_ACR, authTime: T0_MS / 1000 });

    // The secret is sealed at rest: the base32 secret appears nowhere in the row.
    const row = await store.db.selectFrom('users').selectAll().where('username', '=', 'bob').executeTakeFirstOrThrow();
    assert.ok(row.totp_secret_enc && !row.totp_secret_enc.includes(secret));
    assert.equal(Number(row.totp_last_step), Math.floor(T0_MS / 30_000));
  });

  test('a wrong TOTP code is otp_invalid; codes one step early or late are accepted, two are not', async () => {
    const { users, clock } = await setup(open);
    await users.add('carol', PASSWORD);
    const { uri } = await users.enrollTotp('carol', 'jitgate');
    const now = clock.nowMs();
    const right = appCode(uri, now);
    const wrong = right === '000000' ? '111111' : '000000';
    assert.equal((await refusal(users.login({ username: 'carol', password: PASSWORD, otp: wrong }))).code, 'otp_invalid');
    assert.equal((await refusal(users.login({ username: 'carol', password: PASSWORD, otp: 'abcdef' }))).code, 'otp_invalid');
    assert.equal((await refusal(users.login({ username: 'carol', password: PASSWORD, otp: '1234567' }))).code, 'otp_invalid');
    const tooOld = appCode(uri, now - 60_000);
    if (tooOld !== appCode(uri, now - 30_000) && tooOld !== right && tooOld !== appCode(uri, now + 30_000)) {
      assert.equal((await refusal(users.login({ username: 'carol', password: PASSWORD, otp: tooOld }))).code, 'otp_invalid');
    }
    // The previous step's code (the phone's clock a little behind), then the next step's (a little ahead).
    await users.login({ username: 'carol', password: PASSWORD, otp: appCode(uri, now - 30_000) });
    await users.login({ username: 'carol', password: PASSWORD, otp: appCode(uri, now + 30_000) });
  });

  test('the same code twice in its step: the second is otp_replayed, as is any earlier step', async () => {
    const { users, clock } = await setup(open);
    await users.add('dave', PASSWORD);
    const { uri } = await users.enrollTotp('dave', 'jitgate');
    const code = appCode(uri, clock.nowMs());
    await users.login({ username: 'dave', password: PASSWORD, otp: code });
    clock.advance(5);
    assert.equal((await refusal(users.login({ username: 'dave', password: PASSWORD, otp: code }))).code, 'otp_replayed');
    // After a code of the next step, the current step's code is a replay too.
    const previous = appCode(uri, clock.nowMs());
    clock.advance(30);
    await users.login({ username: 'dave', password: PASSWORD, otp: appCode(uri, clock.nowMs()) });
    if (previous !== appCode(uri, clock.nowMs())) {
      assert.equal((await refusal(users.login({ username: 'dave', password: PASSWORD, otp: previous }))).code, 'otp_replayed');
    }
  });

  test('two logins racing with one code: exactly one is accepted', async () => {
    const { users, clock } = await setup(open);
    await users.add('erin', PASSWORD);
    const { uri } = await users.enrollTotp('erin', 'jitgate');
    const code = appCode(uri, clock.nowMs());
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => users.login({ username: 'erin', password: PASSWORD, otp: code })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as LoginError).code, 'otp_replayed');
    }
  });

  test('unknown user and wrong password are the same refusal, and both pay for a hash', async () => {
    const { users, store } = await setup(open);
    await users.add('frank', PASSWORD);
    const wrong = await refusal(users.login({ username: 'frank', password: 'not the password at all' }));
    const unknown = await refusal(users.login({ username: 'nobody', password: 'not the password at all' }));
    const invalidName = await refusal(users.login({ username: 'Robert"); drop table users;--', password: PASSWORD }));
    for (const e of [wrong, unknown, invalidName]) {
      assert.equal(e.code, 'invalid_credentials');
      assert.equal(e.message, wrong.message);
      assert.equal(e.retryAfterS, null);
    }

    // Timing: an unknown user costs a full verification too (against a dummy hash).
    const time = async (username: string) => {
      const started = performance.now();
      await refusal(users.login({ username, password: 'not the password at all' }));
      return performance.now() - started;
    };
    await users.add('grace', PASSWORD);
    const known: number[] = [];
    const missing: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time('grace'));
      missing.push(await time(`ghost${i}`));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
    assert.ok(
      median(missing) > median(known) * 0.5,
      `unknown users answered in ${median(missing).toFixed(1)} ms, known ones in ${median(known).toFixed(1)} ms`,
    );

    const events = await userEvents(store);
    const failed = events.filter((e) => e.type === 'user.login_failed');
    assert.ok(failed.some((e) => e.subject === 'user:nobody' && e.data.known_user === false && e.data.code === 'invalid_credentials'));
    assert.ok(failed.some((e) => e.subject === null && e.data.username === null), 'a name that is no username is not recorded');
    assert.ok(failed.some((e) => e.subject === 'user:frank' && e.data.failures === 1));
    // Neither the passwords nor anything typed reach the log.
    const all = JSON.stringify(await store.db.selectFrom('audit_events').select('data').execute());
    assert.ok(!all.includes('not the password'));
    assert.ok(!all.includes(PASSWORD));
  });

  test('step-up: requireOtp refuses a login without a code, and a user without TOTP by its own code', async () => {
    const { users, clock } = await setup(open);
    await users.add('heidi', PASSWORD);
    await users.add('ivan', PASSWORD);
    const { uri } = await users.enrollTotp('ivan', 'jitgate');
    assert.equal((await refusal(users.login({ username: 'heidi', password: PASSWORD }, { requireOtp: true }))).code, 'mfa_not_enrolled');
    // Only a right password learns that.
    assert.equal(
      (await refusal(users.login({ username: 'heidi', password: 'not the password at all' }, { requireOtp: true }))).code,
      'invalid_credentials',
    );
    assert.equal((await refusal(users.login({ username: 'ivan', password: PASSWORD }, { requireOtp: true }))).code, 'otp_required');
    const person = await users.login({ username: 'ivan', password: PASSWORD, otp: appCode(uri, clock.nowMs()) }, { requireOtp: true });
    assert.equal(person.acr, MFA_ACR);
  });

  test('re-enrolling replaces the secret: the old app stops working, the new one works', async () => {
    const { users, clock, store } = await setup(open);
    await users.add('judy', PASSWORD);
    const first = await users.enrollTotp('judy', 'jitgate');
    await users.login({ username: 'judy', password: PASSWORD, otp: appCode(first.uri, clock.nowMs()) });
    const second = await users.enrollTotp('judy', 'jitgate');
    assert.notEqual(second.secret, first.secret);
    clock.advance(30);
    const oldCode = appCode(first.uri, clock.nowMs());
    const newCode = appCode(second.uri, clock.nowMs());
    if (oldCode !== newCode) {
      assert.equal((await refusal(users.login({ username: 'judy', password: PASSWORD, otp: oldCode }))).code, 'otp_invalid');
    }
    await users.login({ username: 'judy', password: PASSWORD, otp: newCode });

    // Sealed per user: another user's sealed secret copied onto this row does not open.
    await users.add('mallory', PASSWORD);
    await users.enrollTotp('mallory', 'jitgate');
    const judy = await store.db.selectFrom('users').select('totp_secret_enc').where('username', '=', 'judy').executeTakeFirstOrThrow();
    await store.db.updateTable('users').set({ totp_secret_enc: judy.totp_secret_enc }).where('username', '=', 'mallory').execute();
    await assert.rejects(users.login({ username: 'mallory', password: PASSWORD, otp: newCode }), { code: 'totp_secret_unreadable' });

    const events = await userEvents(store);
    assert.deepEqual(
      events.filter((e) => e.subject === 'user:judy' && e.type !== 'user.login_failed').map((e) => e.type),
      ['user.created', 'user.mfa_enrolled', 'user.mfa_enrolled'],
    );
  });

  test('add, setPassword, list and remove, with their refusals', async () => {
    const { users, store } = await setup(open);
    await users.add('kim', PASSWORD);
    await assert.rejects(users.add('kim', PASSWORD), { code: 'user_exists' });
    await assert.rejects(users.add('Kim', PASSWORD), { code: 'username_invalid' });
    await assert.rejects(users.add('x'.repeat(65), PASSWORD), { code: 'username_invalid' });
    await assert.rejects(users.add('leo', 'too short'), { code: 'password_too_short' });
    await assert.rejects(users.setPassword('nobody', PASSWORD), { code: 'user_unknown' });
    await assert.rejects(users.enrollTotp('nobody', 'jitgate'), { code: 'user_unknown' });
    await assert.rejects(users.remove('nobody'), { code: 'user_unknown' });

    await users.setPassword('kim', 'a brand new passphrase');
    assert.equal((await refusal(users.login({ username: 'kim', password: PASSWORD }))).code, 'invalid_credentials');
    await users.login({ username: 'kim', password: 'a brand new passphrase' });

    await users.add('leo.b-c_d', PASSWORD);
    assert.deepEqual(
      (await users.list()).map((u) => [u.username, u.principal, u.mfa]),
      [
        ['kim', 'user:kim', false],
        ['leo.b-c_d', 'user:leo.b-c_d', false],
      ],
    );
    await users.remove('kim');
    assert.equal((await refusal(users.login({ username: 'kim', password: 'a brand new passphrase' }))).code, 'invalid_credentials');
    assert.deepEqual((await users.list()).map((u) => u.username), ['leo.b-c_d']);
    const types = (await userEvents(store)).filter((e) => e.subject === 'user:kim').map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ['user.created', 'user.password_changed']);
    assert.equal(types.at(-2), 'user.removed');
  });
});
