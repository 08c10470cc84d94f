import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { URI, TOTP } from 'otpauth';
import { forEachDatabase } from './helpers/databases.js';
import { childDbUrl } from './helpers/audit.js';
import { FIXTURE_POLICY } from './helpers/server.js';
import { startServer } from '../src/http/server.js';
import { loadPolicyText } from '../src/policy/load.js';

const BIN = fileURLToPath(new URL('../bin/jitgate.js', import.meta.url));
const KEK_B64 = randomBytes(32).toString('base64');

/** Runs the real CLI as a shell would, with `input` on its standard input. */
function jitgate(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, JITGATE_KEK: KEK_B64 };
  delete env.JITGATE_KEK_FILE;
  delete env.JITGATE_DB;
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

forEachDatabase('jitgate users', (open) => {
  test('users add --password-stdin, then mfa enroll: the printed URI makes codes the service accepts', async () => {
    const store = await open();
    const db = childDbUrl(store);

    const added = await jitgate(['users', 'add', 'alice', '--db', db, '--password-stdin'], 'correct horse battery staple\nignored\n');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^added user alice \(principal user:alice\)/);

    const enrolled = await jitgate(['users', 'mfa', 'enroll', 'alice', '--db', db, '--issuer-label', 'jitgate (test)']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const uri = /^(otpauth:\/\/totp\/\S+)$/m.exec(enrolled.stdout)?.[1];
    assert.ok(uri, enrolled.stdout);
    assert.match(enrolled.stdout, /[▀▄█]{20,}/, 'a QR code is drawn');
    const otp = URI.parse(uri);
    assert.ok(otp instanceof TOTP);
    assert.deepEqual([otp.issuer, otp.label, otp.algorithm, otp.digits, otp.period], ['jitgate (test)', 'alice', 'SHA1', 6, 30]);

    // The server, holding the same KEK, signs the user in with the app's codes.
    const { policy } = loadPolicyText(FIXTURE_POLICY, { source: 'policy.yaml' });
    assert.ok(policy);
    const server = await startServer({ policy, dbUrl: store.url, store, env: { JITGATE_KEK: KEK_B64 } });
    try {
      const users = server.ctx.users;
      await assert.rejects(users.login({ username: 'alice', password: 'correct horse battery staple' }), { code: 'otp_required' });
      const person = await users.login({ username: 'alice', password: 'correct horse battery staple', otp: otp.generate() });
      assert.deepEqual([person.principal, person.amr], ['user:alice', ['pwd', 'otp', 'mfa']]);
    } finally {
      await server.close();
    }

    const listed = await jitgate(['users', 'list', '--db', db, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      JSON.parse(listed.stdout).users.map((u: { username: string; mfa: boolean }) => [u.username, u.mfa]),
      [['alice', true]],
    );
  });

  test('refusals exit non-zero with a clear message and change nothing', async () => {
    const store = await open();
    const db = childDbUrl(store);
    assert.equal((await jitgate(['users', 'add', 'bob', '--db', db, '--password-stdin'], 'a fine long passphrase\n')).code, 0);

    const cases: [string[], string, RegExp][] = [
      [['users', 'add', 'bob', '--db', db, '--password-stdin'], 'another long passphrase\n', /user bob exists already \[user_exists\]/],
      [['users', 'add', 'carol', '--db', db, '--password-stdin'], 'short\n', /at least 12 characters long \[password_too_short\]/],
      [['users', 'add', 'carol', '--db', db, '--password-stdin'], '\n', /read no password/],
      [['users', 'add', 'carol', '--db', db], '', /--password-stdin \[usage\]/],
      [['users', 'add', 'Carol', '--db', db, '--password-stdin'], 'a fine long passphrase\n', /\[username_invalid\]/],
      [['users', 'passwd', 'nobody', '--db', db, '--password-stdin'], 'a fine long passphrase\n', /there is no user nobody \[user_unknown\]/],
      [['users', 'mfa', 'enroll', 'nobody', '--db', db], '', /there is no user nobody \[user_unknown\]/],
      [['users', 'remove', 'nobody', '--db', db], '', /there is no user nobody \[user_unknown\]/],
    ];
    for (const [args, input, message] of cases) {
      const r = await jitgate(args, input);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
    }
    const listed = JSON.parse((await jitgate(['users', 'list', '--db', db, '--json'])).stdout);
    assert.deepEqual(listed.users.map((u: { username: string }) => u.username), ['bob']);

    const passwd = await jitgate(['users', 'passwd', 'bob', '--db', db, '--password-stdin'], 'the second passphrase\n');
    assert.equal(passwd.code, 0, passwd.stderr);
    const removed = await jitgate(['users', 'remove', 'bob', '--db', db]);
    assert.equal(removed.code, 0, removed.stderr);
    // What the removal revoked is said; bob held nothing here.
    assert.equal(removed.stdout, 'removed user bob; revoked 0 token(s), 0 grant(s), 0 refresh token families, 0 login session(s)\n');
    assert.match((await jitgate(['users', 'list', '--db', db])).stdout, /^no users yet in /);
  });
});

test('jitgate users --help shows examples', async () => {
  const help = await jitgate(['users', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /jitgate users add alice/);
  assert.match(help.stdout, /mfa enroll/);
});
