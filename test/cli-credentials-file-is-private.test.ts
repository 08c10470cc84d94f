import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  configDir,
  credentialsPath,
  EMPTY_CREDENTIALS,
  readCredentials,
  withLogin,
  withoutLogin,
  writeCredentials,
  type SavedLogin,
} from '../src/cli/client/credentials.js';
import { CliFailure } from '../src/cli/client/failure.js';
import { normalizeServerUrl } from '../src/cli/client/server-url.js';
import { chooseServer } from '../src/cli/client/session.js';
import type { CliIo } from '../src/cli/client/cli-io.js';
import { register as registerMe } from '../src/cli/me.js';

const made: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-cred-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const login = (server: string, principal = 'user:alice', expires_at = 2_000_000_000): SavedLogin => ({
  server,
  access_token: `token-of-${principal}`,
  expires_at,
  principal,
  scope: 'read:logs',
  client_id: 'jitgate-cli',
});
const mode = (path: string) => statSync(path).mode & 0o777;
const refusal = (fn: () => unknown, code: string) =>
  assert.throws(fn, (err: unknown) => err instanceof CliFailure && err.code === code, `expected ${code}`);

test('the login is kept under $XDG_CONFIG_HOME/jitgate, else ~/.config/jitgate (a relative XDG value is ignored)', () => {
  assert.equal(configDir({ XDG_CONFIG_HOME: '/xdg' }, '/home/a'), '/xdg/jitgate');
  assert.equal(configDir({}, '/home/a'), '/home/a/.config/jitgate');
  assert.equal(configDir({ XDG_CONFIG_HOME: 'relative/dir' }, '/home/a'), '/home/a/.config/jitgate');
  assert.equal(credentialsPath({ XDG_CONFIG_HOME: '/xdg' }), '/xdg/jitgate/credentials.json');
});

test('written with directory 0700 and file 0600, whatever the umask, and an existing loose directory is tightened', () => {
  const home = fresh();
  const path = credentialsPath({ XDG_CONFIG_HOME: home });
  const old = process.umask(0);
  try {
    writeCredentials(path, withLogin(EMPTY_CREDENTIALS, login('https://a.example')));
  } finally {
    process.umask(old);
  }
  assert.equal(mode(join(home, 'jitgate')), 0o700);
  assert.equal(mode(path), 0o600);
  assert.equal(readCredentials(path).logins['https://a.example']?.principal, 'user:alice');

  chmodSync(join(home, 'jitgate'), 0o755);
  writeCredentials(path, readCredentials(path));
  assert.equal(mode(join(home, 'jitgate')), 0o700);
});

test('a file others can read is refused, with the command that fixes it; so is one that is a symlink', () => {
  const home = fresh();
  const path = credentialsPath({ XDG_CONFIG_HOME: home });
  writeCredentials(path, withLogin(EMPTY_CREDENTIALS, login('https://a.example')));
  for (const loose of [0o644, 0o640, 0o604, 0o660]) {
    chmodSync(path, loose);
    assert.throws(
      () => readCredentials(path),
      (err: unknown) =>
        err instanceof CliFailure &&
        err.code === 'credentials_insecure' &&
        err.lines[0]!.includes(`mode 0${loose.toString(8)}`) &&
        err.lines.some((l) => l.includes(`chmod 600 ${path}`)),
    );
  }
  chmodSync(path, 0o600);
  assert.equal(readCredentials(path).current, 'https://a.example');

  const link = join(home, 'linked.json');
  symlinkSync(path, link);
  refusal(() => readCredentials(link), 'credentials_insecure');
});

test('no file yet reads as no logins; a corrupt file is refused, not overwritten blindly', () => {
  const home = fresh();
  const path = credentialsPath({ XDG_CONFIG_HOME: home });
  assert.deepEqual(readCredentials(path), { version: 1, current: null, logins: {} });
  mkdirSync(join(home, 'jitgate'), { mode: 0o700 });
  writeFileSync(path, '{"version": 1, "logins": ', { mode: 0o600 });
  refusal(() => readCredentials(path), 'credentials_corrupt');
  writeFileSync(path, '{"version": 7, "logins": {}}', { mode: 0o600 });
  refusal(() => readCredentials(path), 'credentials_corrupt');
});

test('the file is replaced by rename: a new inode each time, no temp file left, and a failed write leaves the old file whole', () => {
  const home = fresh();
  const path = credentialsPath({ XDG_CONFIG_HOME: home });
  writeCredentials(path, withLogin(EMPTY_CREDENTIALS, login('https://a.example')));
  const before = statSync(path).ino;
  const first = readFileSync(path, 'utf8');
  // A loose mode from elsewhere does not survive a write: the new file is created 0600.
  chmodSync(path, 0o644);
  writeCredentials(path, withLogin(JSON.parse(first), login('https://b.example', 'user:bob')));
  assert.notEqual(statSync(path).ino, before, 'replaced, not rewritten in place');
  assert.equal(mode(path), 0o600);
  assert.deepEqual(readdirSync(join(home, 'jitgate')), ['credentials.json']);

  // Make the rename fail (the target is a non-empty directory): the previous content must stay intact.
  const dirTarget = join(home, 'blocked.json');
  mkdirSync(join(dirTarget, 'inside'), { recursive: true });
  assert.throws(() => writeCredentials(dirTarget, EMPTY_CREDENTIALS));
  assert.deepEqual(readdirSync(home).sort(), ['blocked.json', 'jitgate']);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).logins['https://b.example'].principal, 'user:bob');
});

test('logins are keyed by normalized server URL: several servers coexist, the last login is the default', () => {
  assert.equal(normalizeServerUrl('https://jit.example.com/'), 'https://jit.example.com');
  assert.equal(normalizeServerUrl(' http://127.0.0.1:8080// '), 'http://127.0.0.1:8080');
  assert.equal(normalizeServerUrl('https://example.com/jit/'), 'https://example.com/jit');
  for (const bad of ['ftp://x', 'not a url', 'https://u:p@x.example', 'https://x.example/?a=1']) {
    refusal(() => normalizeServerUrl(bad), 'usage');
  }

  let file = withLogin(EMPTY_CREDENTIALS, login('https://a.example'));
  file = withLogin(file, login('https://b.example', 'user:bob'));
  assert.deepEqual(Object.keys(file.logins), ['https://a.example', 'https://b.example']);
  assert.equal(chooseServer(undefined, {}, file), 'https://b.example');
  assert.equal(chooseServer(undefined, { JITGATE_SERVER: 'https://a.example/' }, file), 'https://a.example');
  assert.equal(chooseServer('https://c.example', { JITGATE_SERVER: 'https://a.example' }, file), 'https://c.example');

  const afterA = withoutLogin(file, 'https://a.example');
  assert.equal(afterA.current, 'https://b.example');
  const afterB = withoutLogin(file, 'https://b.example');
  assert.equal(afterB.current, null);
  assert.deepEqual(Object.keys(afterB.logins), ['https://a.example']);
  assert.throws(() => chooseServer(undefined, {}, afterB), (err: unknown) => err instanceof CliFailure && err.code === 'no_server' && err.lines[1]!.includes('https://a.example'));
});

test('a saved login past its expiry is not sent: the verb says to log in again and exits 1', async () => {
  const home = fresh();
  const path = credentialsPath({ XDG_CONFIG_HOME: home });
  const nowMs = Date.parse('2026-03-02T09:00:00Z');
  writeCredentials(path, withLogin(EMPTY_CREDENTIALS, login('https://a.example', 'user:alice', nowMs / 1000)));
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  let fetched = 0;
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { XDG_CONFIG_HOME: home },
    nowMs: () => nowMs,
    stderrTty: false,
    columns: undefined,
    setExitCode: (c) => (exitCode = c),
    sleep: async () => {},
    fetch: async () => {
      fetched++;
      throw new Error('must not be called');
    },
    onSignal: () => () => {},
  };
  const program = new Command().exitOverride();
  registerMe(program, io);
  await program.parseAsync(['node', 'jitgate', 'me']);
  assert.equal(exitCode, 1);
  assert.equal(fetched, 0);
  assert.deepEqual(out, []);
  assert.match(err.join(''), /^jitgate: your login expired; run jitgate login --server https:\/\/a\.example\n/);
});
