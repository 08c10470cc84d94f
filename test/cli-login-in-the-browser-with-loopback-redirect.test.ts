/**
 * `jitgate login --browser`: the CLI listens on a loopback port, sends the
 * person to the server's login page, and redeems the code the browser brings
 * back. The browser here is a plain HTTP client with a cookie jar that
 * follows the redirects through the real login page.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { databases } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TestBrowser } from './helpers/browser.js';
import { submitLogin } from './helpers/code-flow.js';
import { cliPerson, type CliPerson, type CliResult } from './helpers/cli.js';
import { browserLogin } from '../src/cli/client/browser-login.js';
import { processIo, type CliIo } from '../src/cli/client/cli-io.js';
import { CliFailure } from '../src/cli/client/failure.js';
import { Secret } from 'otpauth';
import { totpCode } from '../src/identity/totp.js';

const sqlite = databases.find((d) => d.dialect === 'sqlite')!;
const ALICE = { username: 'alice', password: 'correct horse battery staple' };
const show = (r: CliResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

/** The person at the browser: opens the URL, signs in on the page, and follows the redirect to the loopback address. */
async function signInWithBrowser(serverUrl: string, authorizeUrl: string): Promise<{ callback: string; page: string }> {
  const browser = new TestBrowser(serverUrl);
  const first = await browser.get(authorizeUrl);
  assert.equal(first.status, 303, first.html);
  const page = await browser.get(first.location!);
  assert.equal(page.status, 200, page.html);
  const done = await submitLogin(browser, page, ALICE);
  assert.equal(done.status, 303, done.html);
  assert.match(done.location!, /^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
  const landed = await browser.get(done.location!);
  return { callback: done.location!, page: landed.html };
}

function quietIo(): CliIo & { errText(): string } {
  let err = '';
  return { ...processIo(), out: () => {}, err: (t) => void (err += t), stderrTty: false, errText: () => err };
}

describe('CLI: login in the browser through a loopback redirect', () => {
  let srv: TestServer;
  const alice: CliPerson = cliPerson('alice-browser');

  before(async () => {
    srv = await startTestServer({ open: () => sqlite.open() });
    await srv.ctx.users.add(ALICE.username, ALICE.password);
  });
  after(async () => {
    await srv?.close();
    alice.cleanup();
  });

  test('the code comes back to the loopback receiver with state and iss, and is redeemed with PKCE', async () => {
    const io = quietIo();
    let visited: Promise<{ callback: string; page: string }> | null = null;
    let asked = '';
    const tokens = await browserLogin(io, srv.url, 'jitgate-cli', {
      open: async (url) => {
        asked = url;
        visited = signInWithBrowser(srv.url, url);
        return true;
      },
    });
    const u = new URL(asked);
    assert.equal(u.origin + u.pathname, `${srv.ctx.config.issuer}/authorize`);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.match(u.searchParams.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.match(u.searchParams.get('state')!, /^[A-Za-z0-9_-]{22}$/);
    const { callback, page } = await visited!;
    assert.equal(new URL(callback).searchParams.get('iss'), srv.ctx.config.issuer);
    assert.match(page, /You are logged in to jitgate/);

    assert.equal(decodeJwt(tokens.access_token).sub, 'user:alice');
    assert.equal(typeof tokens.refresh_token, 'string');
    // The code was spent by the CLI: replaying the callback's code fails.
    const replay = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'jitgate-cli', code: new URL(callback).searchParams.get('code')!, redirect_uri: u.searchParams.get('redirect_uri')!, code_verifier: 'x'.repeat(43) }),
    });
    assert.equal(replay.status, 400);
  });

  test('a step-up login asks the page for MFA now and comes back with a TOTP-backed token', async () => {
    const bob = { username: 'bob', password: 'bob-has-a-long-password' };
    await srv.ctx.users.add(bob.username, bob.password);
    const secret = Secret.fromBase32((await srv.ctx.users.enrollTotp(bob.username, 'jitgate')).secret).bytes;
    const io = quietIo();
    let asked = '';
    let otpField = '';
    const tokens = await browserLogin(io, srv.url, 'jitgate-cli', {
      acrValues: 'urn:jitgate:acr:mfa',
      maxAge: 0,
      open: async (url) => {
        asked = url;
        void (async () => {
          const browser = new TestBrowser(srv.url);
          const first = await browser.get(url);
          const page = await browser.get(first.location!);
          otpField = /<input[^>]*name="otp"[^>]*>/.exec(page.html)?.[0] ?? '';
          const done = await submitLogin(browser, page, { ...bob, otp: totpCode(secret, Date.now()) });
          await browser.get(done.location!);
        })();
        return true;
      },
    });
    const u = new URL(asked);
    assert.equal(u.searchParams.get('acr_values'), 'urn:jitgate:acr:mfa');
    assert.equal(u.searchParams.get('max_age'), '0');
    assert.match(otpField, /required/, 'the page insists on the code');
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.sub, 'user:bob');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
  });

  test('an answer with a wrong state is refused without ending the wait; one from another issuer ends the login', async () => {
    const io = quietIo();
    const attempt = browserLogin(io, srv.url, 'jitgate-cli', {
      open: async (url) => {
        const u = new URL(url);
        const redirect = u.searchParams.get('redirect_uri')!;
        const wrongState = await fetch(`${redirect}?code=abc&state=guessed&iss=${encodeURIComponent(srv.ctx.config.issuer)}`);
        assert.equal(wrongState.status, 400);
        const otherPath = await fetch(redirect.replace('/callback', '/other'));
        assert.equal(otherPath.status, 404);
        const mixUp = await fetch(`${redirect}?code=abc&state=${u.searchParams.get('state')}&iss=${encodeURIComponent('https://evil.example')}`);
        assert.equal(mixUp.status, 200);
        return true;
      },
    });
    await assert.rejects(attempt, (err: unknown) => err instanceof CliFailure && err.code === 'login_refused' && /evil\.example/.test(err.message));
  });

  test('an error answer from the server is reported', async () => {
    const io = quietIo();
    const attempt = browserLogin(io, srv.url, 'jitgate-cli', {
      open: async (url) => {
        const u = new URL(url);
        await fetch(`${u.searchParams.get('redirect_uri')}?error=access_denied&error_description=no&state=${u.searchParams.get('state')}&iss=${encodeURIComponent(srv.ctx.config.issuer)}`);
        return false;
      },
    });
    await assert.rejects(attempt, (err: unknown) => err instanceof CliFailure && err.code === 'login_refused' && /access_denied/.test(err.message));
    assert.match(io.errText(), /Open this address in a browser on this machine to log in:/);
  });

  test('two ways to log in at once is a usage error, before anything is sent', async () => {
    const r = await alice.run(['login', '--server', srv.url, '--browser', '--device']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^jitgate: choose one way to log in: --browser, --device or an ID token$/m);
  });

  test('jitgate login --browser as a process prints the address when no browser opens, and saves the login', async () => {
    // No opener on PATH: the CLI must fall back to printing the address.
    const emptyPath = mkdtempSync(join(tmpdir(), 'jitgate-nopath-'));
    const running = alice.start(['login', '--server', srv.url, '--browser'], { env: { PATH: emptyPath, DISPLAY: ':0' } });
    await running.waitForStderr(/to log in:\n {2}(\S+)\n/);
    const url = /to log in:\n {2}(\S+)\n/.exec(running.stderr)![1]!;
    await signInWithBrowser(srv.url, url);
    const r = await running.done;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^logged in to .* as user:alice/);
    const saved = JSON.parse(readFileSync(join(alice.configHome, 'jitgate', 'credentials.json'), 'utf8')).logins[srv.url];
    assert.match(saved.refresh_token, /^[A-Za-z0-9_-]{43}$/);
    const me = await alice.run(['me']);
    assert.equal(me.code, 0, show(me));
  });
});
