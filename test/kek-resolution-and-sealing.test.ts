import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Kek, resolveKek } from '../src/tokens/kek.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'jitgate-kek-'));
}

/** Two KEKs are the same key when one opens what the other sealed. */
function sameKey(a: Kek, b: Kek): boolean {
  try {
    b.open('k', a.seal('k', Buffer.from('probe')));
    return true;
  } catch {
    return false;
  }
}

describe('the key-encryption key: where it comes from', () => {
  test('JITGATE_KEK is accepted as base64 or base64url, with or without padding', async () => {
    const bytes = randomBytes(32);
    const forms = [bytes.toString('base64'), bytes.toString('base64url'), `  ${bytes.toString('base64')}\n`];
    const keks = await Promise.all(forms.map((JITGATE_KEK) => resolveKek({ env: { JITGATE_KEK }, dbUrl: PG_URL })));
    for (const kek of keks) {
      assert.deepEqual(kek.source, { kind: 'env' });
      assert.ok(sameKey(keks[0]!, kek));
    }
  });

  test('anything but 32 random bytes in base64 is kek_invalid, says how to make one, and does not echo the value', async () => {
    for (const value of ['hunter2-correct-horse', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), `${randomBytes(32).toString('hex')}`, 'abc$def']) {
      await assert.rejects(resolveKek({ env: { JITGATE_KEK: value }, dbUrl: PG_URL }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'kek_invalid');
        assert.match(err.message, /openssl rand -base64 32/);
        assert.ok(!err.message.includes(value));
        return true;
      });
    }
  });

  test('JITGATE_KEK and JITGATE_KEK_FILE together are ambiguous', async () => {
    const k = randomBytes(32).toString('base64');
    await assert.rejects(resolveKek({ env: { JITGATE_KEK: k, JITGATE_KEK_FILE: '/nonexistent' }, dbUrl: PG_URL }), {
      code: 'kek_invalid',
    });
  });

  test('JITGATE_KEK_FILE is read (trailing newline ignored); a missing file is kek_missing', async () => {
    const dir = tempDir();
    const bytes = randomBytes(32);
    const path = join(dir, 'kek.txt');
    writeFileSync(path, `${bytes.toString('base64')}\n`, { mode: 0o600 });
    const fromFile = await resolveKek({ env: { JITGATE_KEK_FILE: path }, dbUrl: PG_URL });
    assert.deepEqual(fromFile.source, { kind: 'file', path });
    assert.ok(sameKey(fromFile, Kek.fromBytes(bytes)));
    await assert.rejects(resolveKek({ env: { JITGATE_KEK_FILE: join(dir, 'absent') }, dbUrl: PG_URL }), {
      code: 'kek_missing',
    });
  });

  test('PostgreSQL without a KEK is kek_missing with a message that says what to set', async () => {
    await assert.rejects(resolveKek({ env: {}, dbUrl: PG_URL }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'kek_missing');
      assert.match(err.message, /JITGATE_KEK/);
      assert.match(err.message, /openssl rand -base64 32/);
      return true;
    });
  });

  test('SQLite without a KEK generates `kek` beside the database, mode 0600, and reuses it', async () => {
    const dir = tempDir();
    const dbUrl = `sqlite:${join(dir, 'data', 'jitgate.db')}`;
    const first = await resolveKek({ env: {}, dbUrl });
    const path = join(dir, 'data', 'kek');
    assert.deepEqual(first.source, { kind: 'generated', path, created: true });
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    const second = await resolveKek({ env: {}, dbUrl });
    assert.deepEqual(second.source, { kind: 'generated', path, created: false });
    assert.ok(sameKey(first, second));
  });

  test('processes generating the SQLite KEK at once end up with one key and no stray files', async () => {
    const dir = tempDir();
    const dbUrl = `sqlite:${join(dir, 'jitgate.db')}`;
    const keks = await Promise.all(Array.from({ length: 6 }, () => resolveKek({ env: {}, dbUrl })));
    for (const kek of keks) assert.ok(sameKey(keks[0]!, kek));
    assert.equal(keks.filter((k) => k.source.kind === 'generated' && k.source.created).length, 1);
    assert.deepEqual(readdirSync(dir), ['kek']);
  });

  test('a generated KEK file readable by group or others is refused with kek_insecure_permissions', { skip: process.platform === 'win32' }, async () => {
    const dir = tempDir();
    const dbUrl = `sqlite:${join(dir, 'jitgate.db')}`;
    await resolveKek({ env: {}, dbUrl });
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(join(dir, 'kek'), mode);
      await assert.rejects(resolveKek({ env: {}, dbUrl }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'kek_insecure_permissions');
        assert.match(err.message, /chmod 600/);
        return true;
      });
    }
    chmodSync(join(dir, 'kek'), 0o600);
    await resolveKek({ env: {}, dbUrl });
  });

  test('an in-memory SQLite database gets a throw-away KEK and writes no file', async () => {
    const kek = await resolveKek({ env: {}, dbUrl: 'sqlite::memory:' });
    assert.deepEqual(kek.source, { kind: 'ephemeral' });
  });
});

describe('the key-encryption key: sealing', () => {
  test('seal then open round-trips; every seal uses a fresh IV', () => {
    const kek = Kek.generate();
    const secret = randomBytes(138);
    const a = kek.seal('kid-1', secret);
    const b = kek.seal('kid-1', secret);
    assert.notEqual(a, b);
    assert.deepEqual(kek.open('kid-1', a), secret);
    assert.deepEqual(kek.open('kid-1', b), secret);
  });

  test('another KEK, another kid, or an altered byte is kek_mismatch', () => {
    const kek = Kek.generate();
    const sealed = kek.seal('kid-1', randomBytes(64));
    assert.throws(() => Kek.generate().open('kid-1', sealed), {
      code: 'kek_mismatch',
      message: /the key-encryption key does not open the signing keys in this database/,
    });
    assert.throws(() => kek.open('kid-2', sealed), { code: 'kek_mismatch' });
    const raw = Buffer.from(sealed, 'base64url');
    raw[20] = raw[20]! ^ 0x80;
    assert.throws(() => kek.open('kid-1', raw.toString('base64url')), { code: 'kek_mismatch' });
    assert.throws(() => kek.open('kid-1', 'AAAA'), { code: 'signing_key_corrupt' });
  });

  test('the key does not show in JSON or inspect output', () => {
    const bytes = randomBytes(32);
    const kek = Kek.fromBytes(bytes);
    for (const text of [JSON.stringify(kek), inspect(kek, { showHidden: true, depth: 5 })]) {
      assert.ok(!text.includes(bytes.toString('base64')));
      assert.ok(!text.includes(bytes.toString('hex')));
    }
  });
});
