/**
 * `jitgate login --device`, the renewal of an expiring access token with the
 * refresh token, and `jitgate logout`, as real CLI processes against a real
 * server. The person's part (typing the code on the verification page after
 * signing in) is played by approving the printed code on the server.
 *
 * Access tokens live 30 s here, inside the CLI's renewal margin: every
 * command after the login renews, which is how a test in real time sees
 * "expired or about to expire" without waiting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { databases } from './helpers/databases.js';
import { startTestServer, postForm, basic, SECRETS, type TestServer } from './helpers/server.js';
import { cliPerson, type CliPerson, type CliResult } from './helpers/cli.js';
import { approveDeviceAuthorization } from '../src/oauth/device-codes.js';
import { tokenHash } from '../src/tokens/token-hash.js';

const sqlite = databases.find((d) => d.dialect === 'sqlite')!;
const show = (r: CliResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

describe('CLI: device login, renewal with the refresh token, logout', () => {
  let srv: TestServer;
  const alice: CliPerson = cliPerson('alice');
  const credentials = () => join(alice.configHome, 'jitgate', 'credentials.json');
  const saved = () => JSON.parse(readFileSync(credentials(), 'utf8')).logins[srv.url];
  const active = async (token: string) =>
    (await postForm(`${srv.url}/introspect`, { token }, { authorization: basic('resource-server', SECRETS['resource-server']) })).body.active as boolean;

  /** Runs `jitgate login --device` and approves the code it prints, as the person would on the page. */
  async function deviceLogin(): Promise<CliResult> {
    const running = alice.start(['login', '--server', srv.url, '--device']);
    await running.waitForStderr(/enter the code\n\n {4}[A-Z]{4}-[A-Z]{4}\n/);
    const code = /enter the code\n\n {4}([A-Z]{4}-[A-Z]{4})\n/.exec(running.stderr)![1]!;
    assert.match(running.stderr, new RegExp(`open ${srv.ctx.config.issuer}/device in a browser`));
    const approved = await approveDeviceAuthorization(srv.ctx, code, {
      principal: 'user:alice',
      amr: ['pwd', 'otp', 'mfa'],
      acr: 'urn:jitgate:acr:mfa',
      authTime: Math.floor(Date.now() / 1000),
    });
    assert.equal(approved, true);
    return running.done;
  }

  before(async () => {
    srv = await startTestServer({ open: () => sqlite.open(), config: { tokenLifetimeS: 30 } });
  });
  after(async () => {
    await srv?.close();
    alice.cleanup();
  });

  test('login --device prints the address and code, polls, and saves a private login with a refresh token', async () => {
    const r = await deviceLogin();
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^logged in to ${srv.url.replace(/[.]/g, '\\.')} as user:alice \\(scopes: read:logs\\)`));
    assert.equal(statSync(credentials()).mode & 0o777, 0o600);
    const login = saved();
    assert.match(login.refresh_token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(login.client_id, 'jitgate-cli');
  });

  test('a command renews the expiring access token and saves the rotated refresh token', async () => {
    const before = saved();
    const me = await alice.run(['me']);
    assert.equal(me.code, 0, show(me));
    assert.match(me.stdout, /user:alice/);
    const after = saved();
    assert.notEqual(after.access_token, before.access_token);
    assert.notEqual(after.refresh_token, before.refresh_token);
    const old = await srv.ctx.store.db.selectFrom('refresh_tokens').select(['used_at', 'replaced_by']).where('token_hash', '=', tokenHash(before.refresh_token)).executeTakeFirstOrThrow();
    assert.notEqual(old.used_at, null);
    assert.equal(old.replaced_by, tokenHash(after.refresh_token));
  });

  test('commands started together renew once, not twice (a second use would end the login)', async () => {
    const runs = await Promise.all([alice.run(['me']), alice.run(['me']), alice.run(['me'])]);
    for (const r of runs) assert.equal(r.code, 0, show(r));
    assert.equal((await alice.run(['me'])).code, 0, 'the login still works');
    const reused = await srv.ctx.store.db.selectFrom('audit_events').select('seq').where('type', '=', 'refresh_token.reused').execute();
    assert.equal(reused.length, 0);
  });

  test('a refresh token spent twice ends the login, and the CLI says to log in again', async () => {
    const copy = readFileSync(credentials(), 'utf8');
    assert.equal((await alice.run(['me'])).code, 0);
    writeFileSync(credentials(), copy, { mode: 0o600 });
    const r = await alice.run(['me']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^jitgate: your login has ended/m);
    assert.match(r.stderr, /log in again: jitgate login --server /);
  });

  test('logout revokes the refresh token and the access token, then removes the file', async () => {
    assert.equal((await deviceLogin()).code, 0);
    const login = saved();
    assert.equal(await active(login.access_token), true);
    const r = await alice.run(['logout']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `logged out of ${srv.url} (user:alice); the login and its tokens are revoked\n`);
    assert.equal(existsSync(credentials()), false);
    assert.equal(await active(login.access_token), false);
    const row = await srv.ctx.store.db.selectFrom('refresh_tokens').select('revoked_at').where('token_hash', '=', tokenHash(login.refresh_token)).executeTakeFirstOrThrow();
    assert.notEqual(row.revoked_at, null);
    const refresh = await postForm(`${srv.url}/token`, { grant_type: 'refresh_token', client_id: 'jitgate-cli', refresh_token: login.refresh_token });
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  test('logout with the server unreachable still forgets the login, warns, and fails', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const now = Math.floor(Date.now() / 1000);
    const token = `e30.${Buffer.from(JSON.stringify({ sub: 'user:alice', exp: now + 600 })).toString('base64url')}.x`;
    mkdirSync(join(alice.configHome, 'jitgate'), { recursive: true, mode: 0o700 });
    writeFileSync(
      credentials(),
      JSON.stringify({
        version: 1,
        current: dead,
        logins: { [dead]: { server: dead, access_token: token, expires_at: now + 600, principal: 'user:alice', scope: 'read:logs', client_id: 'jitgate-cli', refresh_token: 'r'.repeat(43) } },
      }),
      { mode: 0o600 },
    );
    const r = await alice.run(['logout']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /could not reach the jitgate server/);
    assert.match(r.stderr, /warning: the login to .* is forgotten here, but not revoked at the server/);
    assert.equal(existsSync(credentials()), false);
  });
});
