import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { forEachDatabase } from './helpers/databases.js';
import { useElevationServer, fixturePolicy, assertProblem } from './helpers/elevation.js';
import { postForm, basic, SECRETS } from './helpers/server.js';
import { Checkpointer, writeCheckpoint } from '../src/audit/checkpointer.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { AuditLog } from '../src/audit/log.js';
import { Keyring } from '../src/tokens/keyring.js';
import { Kek } from '../src/tokens/kek.js';
import { rotateSigningKey } from '../src/tokens/rotate.js';
import { FrozenClock } from '../src/util/clock.js';
import { pino } from 'pino';

const POLICY = fixturePolicy('audit-policy.yaml');
const AUDITOR = basic('auditor', 'auditor-secret-0123456789abcdef0123456789');

forEachDatabase('the audit API and the events the server writes', (open) => {
  const h = useElevationServer(open, { policyText: POLICY });
  let auditorToken = '';
  const audit = async (query: string, token = auditorToken) => {
    const res = await fetch(`${h.srv.url}/api/v1/audit${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };

  test('policy.loaded is recorded at start, and again on a reload that changes the policy', async () => {
    const loaded = await h.events('policy.loaded');
    assert.equal(loaded.length, 1);
    assert.deepEqual(loaded[0]!.data, { hash: h.srv.ctx.policy.current.hash, source: h.srv.policyPath });
    assert.equal(loaded[0]!.actor, null);

    const before = h.srv.ctx.policy.current.hash;
    const appended = once(h.srv.ctx.audit, 'appended');
    await h.srv.rewritePolicy(`${POLICY}\n# reviewed in change 1234\n`);
    await appended;
    const after = await h.events('policy.loaded');
    assert.equal(after.length, 2);
    assert.deepEqual(after[1]!.data, { hash: h.srv.ctx.policy.current.hash, source: h.srv.policyPath, previous_hash: before });
    assert.notEqual(h.srv.ctx.policy.current.hash, before);
  });

  test('a failed client authentication is recorded as auth.failed before the answer, never with the secret', async () => {
    const wrong = 'not-the-secret-but-32-characters-long!!';
    const basicFail = await postForm(`${h.srv.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('ci-pipeline', wrong) });
    assert.equal(basicFail.status, 401);
    assert.equal(basicFail.body.error, 'invalid_client');
    const postFail = await postForm(`${h.srv.url}/token`, { grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: wrong });
    assert.equal(postFail.status, 401);
    // The answer came after the event was durable: it is there already.
    const failed = await h.events('auth.failed');
    assert.deepEqual(
      failed.map((e) => [e.subject, e.data.client_id, e.data.method, e.data.address]),
      [
        ['client:ci-pipeline', 'ci-pipeline', 'client_secret_basic', '127.0.0.1'],
        ['client:no-such-client', 'no-such-client', 'client_secret_post', '127.0.0.1'],
      ],
    );
    for (const e of failed) assert.equal(typeof e.data.reason, 'string');
    const rows = await h.srv.ctx.store.db.selectFrom('audit_events').select('data').execute();
    assert.ok(rows.every((r) => !r.data.includes(wrong) && !r.data.includes(SECRETS['ci-pipeline'])));
  });

  test('GET /audit needs a token with jitgate:audit', async () => {
    const none = await audit('', '');
    assertProblem(none, 401, 'unauthorized');
    await h.login('alice');
    const alice = await audit('', h.tokens.alice!);
    assertProblem(alice, 403, 'insufficient_scope');
    assert.equal(alice.body.scope, 'jitgate:audit');
    assert.match(alice.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="jitgate:audit"/);

    const res = await postForm(`${h.srv.url}/token`, { grant_type: 'client_credentials' }, { authorization: AUDITOR });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    auditorToken = res.body.access_token;
    assert.equal((await audit('')).status, 200);
    // Members of security hold it as a baseline too.
    await h.login('dave');
    assert.equal((await audit('', h.tokens.dave!)).status, 200);
  });

  test('GET /audit filters by type, principal and scope, and pages with after and next', async () => {
    for (const who of ['alice', 'carol', 'dave']) await h.login(who);
    const filed = await h.api('alice', 'POST', '/requests', { scopes: ['deploy:prod'], duration: '30m', reason: 'roll out the payment fix', ticket: 'OPS-7' });
    assert.equal(filed.status, 201, JSON.stringify(filed.body));
    const id = filed.body.id as string;
    assert.equal((await h.api('carol', 'POST', `/requests/${id}/approve`, { comment: 'ok' })).status, 200);
    assert.equal((await h.api('dave', 'POST', `/requests/${id}/approve`, {})).status, 200);
    assert.equal((await h.exchange(h.tokens.alice!, 'deploy:prod')).status, 200);
    await h.clientToken('ci-pipeline');

    const all = await audit('?limit=1000');
    assert.equal(all.status, 200);
    assert.equal(all.body.next, null);
    const seqs = all.body.items.map((e: any) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a: number, b: number) => a - b));
    for (const e of all.body.items) assert.deepEqual(Object.keys(e).sort(), ['actor', 'at', 'data', 'hash', 'id', 'prev_hash', 'seq', 'subject', 'type']);

    const requests = await audit('?type=request.*&limit=1000');
    assert.deepEqual(
      requests.body.items.filter((e: any) => e.data.requestId === id).map((e: any) => e.type),
      // Two stages, one approval each, then the approval itself.
      ['request.created', 'request.stage_approved', 'request.stage_approved', 'request.approved'],
    );
    assert.ok(requests.body.items.every((e: any) => e.type.startsWith('request.')));

    const twoTypes = await audit('?type=request.created,grant.started&limit=1000');
    assert.deepEqual([...new Set(twoTypes.body.items.map((e: any) => e.type))].sort(), ['grant.started', 'request.created']);

    const carol = await audit('?principal=user:carol&limit=1000');
    assert.ok(carol.body.items.length > 0);
    assert.ok(carol.body.items.every((e: any) => e.actor === 'user:carol' || e.subject === 'user:carol'));
    assert.ok(carol.body.items.some((e: any) => e.actor === 'user:carol' && e.data.requestId === id));

    const deploy = await audit('?scope=deploy:prod&limit=1000');
    const deployTypes = deploy.body.items.map((e: any) => e.type);
    assert.ok(deployTypes.includes('request.created') && deployTypes.includes('grant.started') && deployTypes.includes('token.exchanged'), deployTypes.join());
    assert.ok(!deployTypes.includes('auth.failed') && !deployTypes.includes('policy.loaded'));
    assert.ok(deploy.body.items.every((e: any) => e.data.requestId === id || e.data.scopes?.includes('deploy:prod')));
    const metrics = await audit('?scope=read:metrics&limit=1000');
    assert.ok(metrics.body.items.length > 0 && metrics.body.items.every((e: any) => e.type === 'token.issued' && e.data.scopes.includes('read:metrics')));

    // Pages of 3 put together are the whole list.
    const paged: number[] = [];
    let after = 0;
    for (let i = 0; i < 100; i++) {
      const page = await audit(`?limit=3&after=${after}`);
      assert.ok(page.body.items.length <= 3);
      paged.push(...page.body.items.map((e: any) => e.seq));
      if (page.body.next === null) break;
      after = page.body.next;
    }
    assert.deepEqual(paged, seqs);

    assertProblem(await audit('?limit=0'), 400, 'query_invalid');
    assertProblem(await audit('?after=-1'), 400, 'query_invalid');
    assertProblem(await audit('?type=DROP%20TABLE'), 400, 'query_invalid');
  });

  test('GET /audit/verify recomputes the chain and checks the checkpoints', async () => {
    await writeCheckpoint(h.srv.ctx.store.db, h.srv.ctx.keyring.signer(), h.srv.ctx.config.issuer, h.clock.nowMs());
    const res = await audit('/verify');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.ok, true, JSON.stringify(res.body.problem));
    assert.equal(res.body.first_seq, 1);
    assert.ok(res.body.checkpoints.valid >= 1);
    assert.deepEqual(res.body.checkpoints.kids, [h.srv.ctx.keyring.signer().kid]);
    assert.equal(res.body.problem, null);
    await h.login('alice');
    assertProblem(await audit('/verify', h.tokens.alice!), 403, 'insufficient_scope');
  });
});

forEachDatabase('audit events and checkpoints outside requests', (open) => {
  test('key.rotated is written in the rotation’s transaction', async () => {
    const store = await open();
    const kek = Kek.generate();
    const now = 1_900_000_000;
    await Keyring.open(store, kek, { now: () => now });
    const first = await store.db.selectFrom('signing_keys').select('kid').executeTakeFirstOrThrow();
    const r = await rotateSigningKey(store, kek, { now, publishDelayS: 300, maxTokenLifetimeS: 3600 });
    const events = await store.db.selectFrom('audit_events').selectAll().where('type', '=', 'key.rotated').execute();
    assert.equal(events.length, 1);
    assert.deepEqual(JSON.parse(events[0]!.data), {
      kid: r.kid,
      signs_from: now + 300,
      previous_kid: first.kid,
      previous_publish_until: r.previous!.publishUntil,
    });
    assert.equal(events[0]!.at, new Date(now * 1000).toISOString());
    // A rotation refused (another KEK) leaves neither a key nor an event.
    await assert.rejects(rotateSigningKey(store, Kek.generate(), { now, publishDelayS: 300, maxTokenLifetimeS: 3600 }));
    assert.equal((await store.db.selectFrom('audit_events').select('seq').where('type', '=', 'key.rotated').execute()).length, 1);
    assert.equal((await verifyStore(store)).ok, true);
  });

  test('the checkpointer signs after every N appended events and what a previous run left unsigned', async () => {
    const store = await open();
    const clock = new FrozenClock(Date.parse('2026-11-24T09:00:00Z'));
    const keyring = await Keyring.open(store, Kek.generate(), { now: () => Math.floor(clock.nowMs() / 1000) });
    const log = new AuditLog(store, clock);
    const append = (n: number) =>
      log.transact((_trx, add) => add(Array.from({ length: n }, (_, i) => ({ type: 'test.event', actor: null, subject: null, data: { i } }))));
    await append(3); // before the checkpointer runs: a previous run's tail
    const cp = new Checkpointer({
      db: store.db,
      signer: (s) => keyring.signer(s),
      issuer: () => 'https://jit.test',
      clock,
      log: pino({ level: 'silent' }),
      schedule: { everyEvents: 5, everyMs: 3_600_000 },
    });
    cp.start(log);
    await cp.checkpointNow();
    for (let i = 0; i < 4; i++) await append(3);
    await cp.checkpointNow();
    await cp.stop();
    const rows = await store.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
    const seqs = rows.map((r) => Number(r.seq));
    assert.equal(seqs[0], 3, 'the unsigned tail of a previous run is signed at start');
    assert.equal(seqs.at(-1), 15);
    assert.ok(seqs.length >= 3, `checkpoints at ${seqs.join(', ')}`);
    for (const r of rows) {
      const [header, payload] = r.jws.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')));
      assert.deepEqual(header, { alg: 'ES256', typ: 'jitgate-checkpoint+jwt', kid: keyring.signer().kid });
      assert.deepEqual(payload, { iss: 'https://jit.test', seq: Number(r.seq), hash: r.hash, at: r.at });
    }
    const report = await verifyStore(store);
    assert.deepEqual([report.ok, report.checkpoints.valid, report.unsigned_tail], [true, rows.length, null]);
  });
});
