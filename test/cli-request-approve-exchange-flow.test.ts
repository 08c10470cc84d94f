/**
 * The requester/approver CLI end to end: real `node bin/jitgate.js` processes
 * (alice requests, carol and dave approve) against a real server and identity
 * provider. The CLI does not see the database, so one (SQLite) is enough here;
 * the server's own suites cover both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { databases } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TestIdp } from './helpers/idp.js';
import { cliPerson, type CliPerson, type CliResult } from './helpers/cli.js';
import { claimsOf } from './helpers/elevation.js';

const sqlite = databases.find((d) => d.dialect === 'sqlite')!;
const DEPLOY = 'https://deploy.internal';
const REQUEST_DEPLOY = ['request', 'deploy:prod', '--for', '30m', '--reason', 'roll back the broken release', '--ticket', 'OPS-1'];

const show = (r: CliResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

describe('CLI: request, approve, exchange, exec, release against a real server', () => {
  let idp: TestIdp;
  let srv: TestServer;
  const people: Record<'alice' | 'bob' | 'carol' | 'dave', CliPerson> = {
    alice: cliPerson('alice'),
    bob: cliPerson('bob'),
    carol: cliPerson('carol'),
    dave: cliPerson('dave'),
  };
  const { alice, bob, carol, dave } = people;

  /** Signs `person` in at the identity provider (with MFA unless told otherwise) and runs `jitgate login`. */
  async function login(person: CliPerson, sub: string, { mfa = true } = {}): Promise<CliResult> {
    const now = Math.floor(Date.now() / 1000);
    const idToken = await idp.idToken({ sub, amr: mfa ? ['pwd', 'otp'] : ['pwd'], auth_time: now - 5 });
    const file = join(person.configHome, 'id-token.jwt');
    writeFileSync(file, `${idToken}\n`, { mode: 0o600 });
    return person.run(['login', '--server', srv.url, '--id-token-file', file]);
  }

  /** The one request waiting for `approver`, found the way an approver would find it. */
  async function toApprove(approver: CliPerson): Promise<any[]> {
    const r = await approver.run(['requests', '--to-approve', '--json']);
    assert.equal(r.code, 0, show(r));
    return JSON.parse(r.stdout).items;
  }

  before(async () => {
    idp = await new TestIdp().start();
    srv = await startTestServer({
      open: () => sqlite.open(),
      substitute: { 'https://idp.test.invalid/jwks': idp.jwksUri, 'https://idp.test.invalid': idp.issuer },
    });
  });
  after(async () => {
    await srv?.close();
    await idp?.close();
    for (const p of Object.values(people)) p.cleanup();
  });

  test('login exchanges the ID token, saves a private login and says who you are', async () => {
    const r = await login(alice, 'alice');
    assert.equal(r.code, 0, show(r));
    assert.match(
      r.stdout,
      new RegExp(`^logged in to ${srv.url.replace(/[.]/g, '\\.')} as user:alice \\(scopes: read:logs\\), token valid until \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z \\(in 15m\\)\n$`),
    );
    const dir = join(alice.configHome, 'jitgate');
    const file = join(dir, 'credentials.json');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(saved.current, srv.url);
    assert.equal(saved.logins[srv.url].principal, 'user:alice');
    assert.equal(saved.logins[srv.url].scope, 'read:logs');
    assert.equal(claimsOf(saved.logins[srv.url].access_token).sub, 'user:alice');

    // Independent people, so their processes run side by side.
    const [carolLogin, daveLogin, bobLogin, me, meText] = await Promise.all([
      login(carol, 'carol'),
      login(dave, 'dave'),
      login(bob, 'bob', { mfa: false }),
      alice.run(['me', '--json']),
      alice.run(['me']),
    ]);
    for (const r of [carolLogin, daveLogin, bobLogin]) assert.equal(r.code, 0, show(r));
    assert.equal(me.code, 0, show(me));
    const body = JSON.parse(me.stdout);
    assert.equal(body.principal, 'user:alice');
    assert.ok(body.eligible.scopes.includes('deploy:prod'), me.stdout);
    assert.match(meText.stdout, /^principal\s+user:alice$/m);
    assert.match(meText.stdout, /^may request\s+(.*, )?deploy:prod(, .*)?$/m);
  });

  test('token without a grant prints the server’s explanation of the request needed, and exits 1', async () => {
    const r = await alice.run(['token', '--scope', 'deploy:prod', '--resource', DEPLOY]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^jitgate: no active grant covers deploy:prod for user:alice/);
    assert.match(r.stderr, /jitgate request deploy:prod/);
  });

  test('request --wait follows a two-stage chain; token and exec use the grant; exec releases it', async () => {
    const waiting = alice.start([...REQUEST_DEPLOY, '--wait']);
    await waiting.waitForStderr(/waiting for approval: stage 1\/2 \(sre-leads\)/);

    const [[pending], table] = await Promise.all([toApprove(carol), carol.run(['requests', '--to-approve'])]);
    assert.ok(pending, 'carol sees the request');
    assert.equal(pending.requester, 'user:alice');
    const id: string = pending.id;
    assert.match(waiting.stdout, new RegExp(`^request ${id}  pending$`, 'm'));
    assert.match(table.stdout, /^ID\s+REQUESTER\s+SCOPES\s+RESOURCE\s+STATUS\s+AGE\s+WAITING ON$/m);
    assert.match(table.stdout, new RegExp(`^${id}\\s+user:alice\\s+deploy:prod\\s+${DEPLOY}\\s+pending\\s+\\d+s\\s+stage 1/2: sre-leads \\(0/1\\)$`, 'm'));

    const [own, early] = await Promise.all([alice.run(['approve', id]), dave.run(['approve', id])]);
    assert.equal(own.code, 1, show(own));
    assert.match(own.stderr, /^jitgate: Self approval: /);
    assert.equal(early.code, 1, show(early));
    assert.match(early.stderr, /^jitgate: Not an approver: /);

    const first = await carol.run(['approve', id, '--comment', 'matches OPS-1']);
    assert.equal(first.code, 0, show(first));
    assert.match(first.stdout, /^ {2}stage 1\/2\s+approved: sre-leads, 1 of 1 approval$/m);
    assert.match(first.stdout, /approved by user:carol .*: "matches OPS-1"$/m);
    await waiting.waitForStderr(/waiting for approval: stage 2\/2 \(security\)/);

    const second = await dave.run(['approve', id]);
    assert.equal(second.code, 0, show(second));
    const done = await waiting.done;
    assert.equal(done.code, 0, show(done));
    const grantId = /approved: grant (\S+) \(active\) for deploy:prod from /.exec(done.stdout)?.[1];
    assert.ok(grantId, show(done));
    assert.match(done.stderr, /use it: jitgate exec --scope deploy:prod --resource https:\/\/deploy\.internal -- CMD/);

    const tok = await alice.run(['token', '--scope', 'deploy:prod', '--resource', DEPLOY]);
    assert.equal(tok.code, 0, show(tok));
    assert.match(tok.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = claimsOf(tok.stdout.trim());
    assert.equal(claims.sub, 'user:alice');
    assert.equal(claims.scope, 'deploy:prod');
    assert.equal(claims.aud, DEPLOY);
    assert.equal(claims.grant, grantId);

    // The command sees the elevated token and its exit status becomes jitgate's.
    const script =
      'const c = JSON.parse(Buffer.from(process.env.JITGATE_TOKEN.split(".")[1], "base64url"));' +
      'console.log("ran with", c.scope, "for", c.sub); process.exit(7)';
    const ran = await alice.run(['exec', '--scope', 'deploy:prod', '--resource', DEPLOY, '--', process.execPath, '-e', script]);
    assert.equal(ran.code, 7, show(ran));
    assert.equal(ran.stdout, 'ran with deploy:prod for user:alice\n');

    const grants = await alice.run(['grants', '--principal', 'user:alice', '--json']);
    assert.equal(grants.code, 0, show(grants));
    const grant = JSON.parse(grants.stdout).items.find((g: any) => g.id === grantId);
    assert.equal(grant?.status, 'released', grants.stdout);
    const again = await alice.run(['token', '--scope', 'deploy:prod', '--resource', DEPLOY]);
    assert.equal(again.code, 1, 'a released grant gives no more tokens');
  });

  test('a denial ends --wait with exit 2; the requester sees where it was denied', async () => {
    const waiting = alice.start([...REQUEST_DEPLOY, '--wait']);
    await waiting.waitForStderr(/waiting for approval: stage 1\/2/);
    const [pending] = await toApprove(carol);
    const deny = await carol.run(['deny', pending.id, '--reason', 'use the staging cluster first']);
    assert.equal(deny.code, 0, show(deny));
    assert.match(deny.stdout, new RegExp(`^request ${pending.id}  denied$`, 'm'));
    const done = await waiting.done;
    assert.equal(done.code, 2, show(done));
    assert.match(done.stdout, /^denied at stage 1\/2 by (user:carol|sre-leads)/m);
  });

  test('Ctrl-C while waiting leaves the request pending and says how to cancel; cancel withdraws it', async () => {
    const waiting = alice.start([...REQUEST_DEPLOY, '--wait']);
    await waiting.waitForStderr(/waiting for approval/);
    waiting.child.kill('SIGINT');
    const done = await waiting.done;
    assert.equal(done.code, 130, show(done));
    const id = /^request (\S+) {2}pending$/m.exec(done.stdout)?.[1];
    assert.ok(id, show(done));
    assert.match(done.stderr, new RegExp(`the request ${id} is still pending`));
    assert.match(done.stderr, new RegExp(`cancel it: jitgate cancel ${id}`));

    const mine = await alice.run(['requests', '--mine', '--status', 'pending', '--json']);
    assert.ok(JSON.parse(mine.stdout).items.some((r: any) => r.id === id), mine.stdout);
    const cancel = await alice.run(['cancel', id]);
    assert.equal(cancel.code, 0, show(cancel));
    assert.match(cancel.stdout, new RegExp(`^request ${id}  cancelled$`, 'm'));
    const twice = await alice.run(['cancel', id]);
    assert.equal(twice.code, 1, show(twice));
    assert.match(twice.stderr, /^jitgate: Not pending: /);
  });

  test('refusals print title, detail and the members that help: what may be requested, what is missing', async () => {
    const [notEligible, noTicket, badFlags] = await Promise.all([
      carol.run(['request', 'deploy:prod', '--for', '30m', '--reason', 'I would like to deploy', '--ticket', 'OPS-3']),
      alice.run(['request', 'deploy:prod', '--for', '30m', '--reason', 'roll back the broken release']),
      alice.run(['request', 'deploy:prod', '--bundle', 'incident-response', '--for', '30m', '--reason', 'both at once here']),
    ]);
    assert.equal(notEligible.code, 1, show(notEligible));
    assert.match(notEligible.stderr, /^jitgate: Not eligible: .*deploy:prod/);
    assert.match(notEligible.stderr, /^ {2}you may request: nothing$/m);
    assert.equal(noTicket.code, 1, show(noTicket));
    assert.match(noTicket.stderr, /^jitgate: Ticket required: /);
    assert.match(noTicket.stderr, /^ {2}field: ticket$/m);
    assert.equal(badFlags.code, 1, show(badFlags));
    assert.equal(badFlags.stderr, 'jitgate: ask for scopes or for a --bundle, not both\n');
  });

  test('a scope that needs MFA, asked for without it, says a fresh MFA login is needed and what the server asks', async () => {
    const r = await bob.run([...REQUEST_DEPLOY]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^jitgate: this needs a fresh MFA login: these scopes need a recent multi-factor sign-in$/m);
    assert.match(r.stderr, /the server asks for acr_values=urn:jitgate:acr:mfa, max_age=900 \(signed in within the last 15m\)/);
    assert.match(r.stderr, /jitgate login --server /);
  });

  test('revoke names a grant or --principal, never both or neither; revoking a principal without jitgate:admin exits 1', async () => {
    const [neither, both, refused] = await Promise.all([
      dave.run(['revoke', '--reason', 'cleaning up']),
      dave.run(['revoke', 'gr_x', '--principal', 'user:bob', '--reason', 'cleaning up']),
      dave.run(['revoke', '--principal', 'user:bob', '--reason', 'cleaning up']),
    ]);
    for (const r of [neither, both]) {
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.stderr, /name a grant id or --principal, not both and not neither/);
    }
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.stderr, /revoking a principal needs jitgate:admin/);
    const bobMe = await bob.run(['me', '--json']);
    assert.equal(bobMe.code, 0, show(bobMe));
  });

  test('logout revokes the token: a kept copy of the login is refused by the server', async () => {
    const file = join(dave.configHome, 'jitgate', 'credentials.json');
    const copy = readFileSync(file, 'utf8');
    const out = await dave.run(['logout']);
    assert.equal(out.code, 0, show(out));
    assert.equal(out.stdout, `logged out of ${srv.url} (user:dave); the token is revoked\n`);
    const me = await dave.run(['me', '--server', srv.url]);
    assert.equal(me.code, 1, show(me));
    assert.match(me.stderr, /^jitgate: not logged in to /);

    writeFileSync(file, copy, { mode: 0o600 });
    const stale = await dave.run(['me']);
    assert.equal(stale.code, 1, show(stale));
    assert.match(stale.stderr, /^jitgate: the server no longer accepts your login: the access token is not active/);
    assert.match(stale.stderr, /run: jitgate login --server /);
  });

  test('a server that cannot be reached is named', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await alice.run(['login', '--server', `http://127.0.0.1:${port}`], { env: { JITGATE_ID_TOKEN: await idp.idToken({ sub: 'alice' }) } });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, new RegExp(`^jitgate: could not reach the jitgate server at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });
});
