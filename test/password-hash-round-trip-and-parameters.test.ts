import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SCRYPT_PARAMS,
  checkPasswordStrength,
  hashPassword,
  needsRehash,
  parsePasswordHash,
  verifyPassword,
} from '../src/identity/password-hash.js';

const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('password hashes', () => {
  test('a hash verifies its own password and no other, and names its algorithm and parameters', async () => {
    const stored = await hashPassword('correct horse battery staple');
    assert.match(stored, /^scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyPassword('correct horse battery staple', stored), true);
    assert.equal(await verifyPassword('correct horse battery stapler', stored), false);
    assert.equal(await verifyPassword('', stored), false);
    const again = await hashPassword('correct horse battery staple');
    assert.notEqual(again, stored, 'a fresh salt every time');
    assert.notEqual(parsePasswordHash(again).salt.toString('hex'), parsePasswordHash(stored).salt.toString('hex'));
  });

  test('verification reads the parameters from the string, so older or newer ones keep working', async () => {
    const weak = await hashPassword('a passphrase of some length', FAST);
    assert.deepEqual(parsePasswordHash(weak).params, FAST);
    assert.equal(await verifyPassword('a passphrase of some length', weak), true);
    assert.equal(await verifyPassword('a passphrase of some lengtH', weak), false);
    assert.equal(needsRehash(weak), true);
    assert.equal(needsRehash(await hashPassword('a passphrase of some length')), false);
    assert.equal(needsRehash(weak, FAST), false);

    const stronger = { N: 2 ** 15, r: 8, p: 2 };
    const raised = await hashPassword('a passphrase of some length', stronger);
    assert.match(raised, /^scrypt\$N=32768,r=8,p=2\$/);
    assert.equal(await verifyPassword('a passphrase of some length', raised), true);
    assert.equal(needsRehash(raised), true, 'anything but today\'s parameters is flagged');
  });

  test('one verification with today\'s parameters costs tens of milliseconds, off the event loop', async () => {
    const stored = await hashPassword('measure me please');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    await verifyPassword('measure me please', stored);
    const ms = performance.now() - started;
    clearInterval(timer);
    assert.ok(ms >= 5, `a verification took ${ms.toFixed(1)} ms: parameters too weak?`);
    assert.ok(ticks > 0, 'the event loop kept running while scrypt worked');
    assert.deepEqual(DEFAULT_SCRYPT_PARAMS, { N: 16384, r: 8, p: 1 });
  });

  test('strings that are not a hash this version reads, or carry absurd parameters, are refused by name', async () => {
    const good = await hashPassword('a passphrase of some length', FAST);
    const [, , salt, hash] = good.split('$');
    for (const bad of [
      '',
      'plaintext-password',
      `bcrypt$N=1024,r=8,p=1$${salt}$${hash}`,
      `scrypt$N=1000,r=8,p=1$${salt}$${hash}`, // not a power of two
      `scrypt$N=${2 ** 24},r=8,p=1$${salt}$${hash}`, // a gigabyte per check
      `scrypt$N=1024,r=0,p=1$${salt}$${hash}`,
      `scrypt$N=1024,r=8,p=99$${salt}$${hash}`,
      `scrypt$N=1024,r=8,p=1$${salt}`,
      `scrypt$N=1024,r=8,p=1$sh$${hash}`,
    ]) {
      assert.throws(() => parsePasswordHash(bad), { code: 'password_hash_invalid' }, bad);
      await assert.rejects(verifyPassword('whatever at all', bad), { code: 'password_hash_invalid' }, bad);
    }
  });

  test('passwords are 12 to 1024 characters, counted as characters after NFKC normalization', async () => {
    assert.throws(() => checkPasswordStrength('elevenchars'), { code: 'password_too_short' });
    checkPasswordStrength('twelve chars');
    checkPasswordStrength('🔑'.repeat(12));
    assert.throws(() => checkPasswordStrength('🔑'.repeat(11)), { code: 'password_too_short' });
    checkPasswordStrength('x'.repeat(1024));
    assert.throws(() => checkPasswordStrength('x'.repeat(1025)), { code: 'password_too_long' });
    // The same password typed as composed or decomposed characters is the same password.
    const stored = await hashPassword('Schlüsselbund-2026', FAST);
    assert.equal(await verifyPassword('Schlu\u0308sselbund-2026', stored), true);
  });
});
