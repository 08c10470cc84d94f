import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register } from '../src/cli/keys.js';

const T0 = 1_800_000_000;

/** Runs `jitgate keys …` in-process with its own environment and clock. */
function cli(env: NodeJS.ProcessEnv, now: () => number) {
  return async (...args: string[]) => {
    let out = '';
    let err = '';
    const program = new Command().exitOverride();
    register(program, { out: (t) => void (out += t), err: (t) => void (err += t), env, now });
    await program.parseAsync(['keys', ...args], { from: 'user' });
    return { out, err };
  };
}

describe('jitgate keys rotate / list', () => {
  test('rotate prints the new kid, when it signs and when the old key leaves; list shows each state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-keys-cli-'));
    const db = `sqlite:${join(dir, 'jitgate.db')}`;
    let t = T0;
    const keys = cli({ JITGATE_KEK: randomBytes(32).toString('base64') }, () => t);

    const empty = await keys('list', '--db', db);
    assert.match(empty.out, /no signing keys yet/);

    // On a database without keys the first rotation makes a key that signs at once.
    const first = JSON.parse((await keys('rotate', '--db', db, '--json')).out);
    assert.equal(first.signs_from, '2027-01-15T08:00:00Z');
    assert.equal(first.previous, null);

    t = T0 + 60;
    const human = await keys('rotate', '--db', db, '--publish-delay', '10m', '--max-token-lifetime', '2h');
    assert.match(human.out, /^new signing key {3}\S+ {3}in the JWKS now, signs from 2027-01-15T08:11:00Z \(in 10m\)\n/);
    assert.match(
      human.out,
      new RegExp(`previous key {6}${first.kid} {3}signs until 2027-01-15T08:11:00Z, leaves the JWKS at 2027-01-15T10:11:00Z \\(in 2h10m\\)`),
    );
    assert.equal(human.err, '');
    const secondKid = /^new signing key {3}(\S+)/.exec(human.out)![1];

    const listed = JSON.parse((await keys('list', '--db', db, '--json')).out);
    assert.deepEqual(
      listed.keys.map((k: { kid: string; state: string }) => [k.kid, k.state]),
      [
        [secondKid, 'pending'],
        [first.kid, 'signing'],
      ],
    );
    assert.equal(listed.keys[1].superseded_at, '2027-01-15T08:11:00Z');
    assert.equal(listed.keys[1].publish_until, '2027-01-15T10:11:00Z');

    t = T0 + 60 + 600;
    assert.deepEqual(
      JSON.parse((await keys('list', '--db', db, '--json')).out).keys.map((k: { state: string }) => k.state),
      ['signing', 'retiring'],
    );
    t = T0 + 60 + 600 + 7200;
    const table = (await keys('list', '--db', db)).out;
    assert.match(table, /^KID +CREATED +SIGNS FROM +SUPERSEDED +PUBLISH UNTIL +STATE\n/);
    assert.match(table, new RegExp(`${secondKid} +2027-01-15T08:01:00Z +2027-01-15T08:11:00Z +- +- +signing`));
    assert.match(table, new RegExp(`${first.kid} .* retired\\n$`));
  });

  test('rotate with a short publish delay warns; with the wrong KEK it refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-keys-cli-'));
    const db = `sqlite:${join(dir, 'jitgate.db')}`;
    const keys = cli({ JITGATE_KEK: randomBytes(32).toString('base64') }, () => T0);
    await keys('rotate', '--db', db);
    const quick = await keys('rotate', '--db', db, '--publish-delay', '0');
    assert.match(quick.err, /warning: a publish delay under 2m/);

    const wrong = cli({ JITGATE_KEK: randomBytes(32).toString('base64') }, () => T0);
    await assert.rejects(wrong('rotate', '--db', db), { code: 'kek_mismatch' });
    await assert.rejects(keys('rotate', '--db', db, '--publish-delay', 'soon'), { code: 'usage' });
    await assert.rejects(keys('rotate', '--db', db, '--max-token-lifetime', '0'), { code: 'usage' });
  });

  test('on SQLite without JITGATE_KEK, rotate uses the generated kek file beside the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-keys-cli-'));
    const db = `sqlite:${join(dir, 'jitgate.db')}`;
    const keys = cli({}, () => T0);
    await keys('rotate', '--db', db);
    assert.ok(existsSync(join(dir, 'kek')));
    const again = await keys('rotate', '--db', db, '--json');
    assert.notEqual(JSON.parse(again.out).previous, null);
  });
});
