/**
 * A real server process, killed with SIGKILL in the middle of token
 * issuance, access requests and approvals: after a restart, everything it
 * acknowledged has its audit event and the chain verifies. And an answer
 * never leaves before its event is committed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import { forEachDatabase } from './helpers/databases.js';
import { fixturePolicy, EXCHANGE, claimsOf } from './helpers/elevation.js';
import { TestIdp } from './helpers/idp.js';
import { basic, SECRETS } from './helpers/server.js';
import { childDbUrl } from './helpers/audit.js';
import { startServeProcess } from './helpers/serve-process.js';
import { verifyStore } from '../src/audit/verify-store.js';
import type { Store } from '../src/store/open.js';

const CI = basic('ci-pipeline', SECRETS['ci-pipeline']);
const AUDITOR = basic('auditor', 'auditor-secret-0123456789abcdef0123456789');

let idp: TestIdp;
let dir: string;
let policyPath: string;
before(async () => {
  idp = await new TestIdp().start();
  dir = mkdtempSync(join(tmpdir(), 'jitgate-crash-'));
  policyPath = join(dir, 'policy.yaml');
  writeFileSync(
    policyPath,
    fixturePolicy('audit-policy.yaml').split('https://idp.test.invalid/jwks').join(idp.jwksUri).split('https://idp.test.invalid').join(idp.issuer),
  );
});
after(async () => {
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

async function form(url: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function login(base: string, who: string): Promise<string> {
  const idToken = await idp.idToken({ sub: who, amr: ['pwd', 'otp'], auth_time: Math.floor(Date.now() / 1000) - 5 });
  const res = await form(`${base}/token`, { grant_type: EXCHANGE, client_id: 'jitgate-cli', subject_token: idToken, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.access_token as string;
}

async function eventsOf(store: Store, type: string) {
  const rows = await store.db.selectFrom('audit_events').select(['actor', 'data']).where('type', '=', type).execute();
  return rows.map((r) => ({ actor: r.actor, data: JSON.parse(r.data) as Record<string, any> }));
}

forEachDatabase('the audit log across a crash', (open) => {
  const kek = randomBytes(32).toString('base64');
  const serve = (store: Store) =>
    startServeProcess({ policyPath, dbUrl: childDbUrl(store), env: { JITGATE_KEK: kek, JITGATE_AUDIT_CHECKPOINT_EVENTS: '25' } });

  test('an answer leaves only once its event is committed', async () => {
    const store = await open();
    const server = await serve(store);
    try {
      // Another session holds the chain head: every append waits behind it.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = store.db.transaction().execute(async (trx) => {
        await sql`update audit_head set seq = seq where id = 1`.execute(trx);
        locked();
        await held;
      });
      await isLocked;
      const answered: string[] = [];
      const token = form(`${server.url}/token`, { grant_type: 'client_credentials' }, { authorization: CI }).then((r) => (answered.push('token'), r));
      const refused = form(`${server.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('ci-pipeline', 'x'.repeat(40)) }).then(
        (r) => (answered.push('auth.failed'), r),
      );
      await delay(700);
      assert.deepEqual(answered, [], 'nothing is answered while its event cannot commit');
      release();
      await holder;
      const [t, f] = await Promise.all([token, refused]);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.equal(f.status, 401);
      const jti = claimsOf(t.body.access_token).jti;
      assert.ok((await eventsOf(store, 'token.issued')).some((e) => e.data.jti === jti));
      assert.equal((await eventsOf(store, 'auth.failed')).length, 1);
    } finally {
      await server.kill('SIGTERM');
    }
  });

  test('after SIGKILL mid-load and a restart, every acknowledged token, request and approval has its event', async () => {
    const store = await open();
    const first = await serve(store);
    const base = first.url;
    const tokens = { alice: await login(base, 'alice'), carol: await login(base, 'carol'), dave: await login(base, 'dave') };
    const ci = await form(`${base}/token`, { grant_type: 'client_credentials' }, { authorization: CI });
    assert.equal(ci.status, 200);

    const acked = { jtis: [] as string[], requests: [] as string[], approvals: [] as [string, string][] };
    let crashed = false;
    const loop = async (step: () => Promise<void>) => {
      while (!crashed) {
        try {
          await step();
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const issue = async () => {
      const r = await form(`${base}/token`, { grant_type: 'client_credentials' }, { authorization: CI });
      if (r.status === 200) acked.jtis.push(claimsOf(r.body.access_token).jti);
    };
    const elevate = async () => {
      const filed = await api(base, tokens.alice, 'POST', '/requests', { scopes: ['deploy:prod'], duration: '10m', reason: 'roll out the payment fix', ticket: 'OPS-1' });
      if (filed.status !== 201) throw new Error(`request refused: ${JSON.stringify(filed.body)}`);
      acked.requests.push(filed.body.id);
      for (const who of ['carol', 'dave'] as const) {
        const r = await api(base, tokens[who], 'POST', `/requests/${filed.body.id}/approve`, {});
        if (r.status !== 200) throw new Error(`approval refused: ${JSON.stringify(r.body)}`);
        acked.approvals.push([filed.body.id, `user:${who}`]);
      }
    };
    const pipeline = async () => {
      const filed = await api(base, ci.body.access_token, 'POST', '/requests', { scopes: ['deploy:prod'], duration: '10m', reason: 'deploy main from the pipeline', ticket: 'OPS-2', context: { branch: 'main' } });
      if (filed.status === 201) acked.requests.push(filed.body.id);
    };
    const workers = [issue, issue, issue, elevate, elevate, pipeline].map((s) => loop(s));
    await delay(2500);
    await first.kill('SIGKILL');
    crashed = true;
    await Promise.all(workers);
    assert.ok(acked.jtis.length > 10 && acked.requests.length > 2 && acked.approvals.length > 2, JSON.stringify({ j: acked.jtis.length, r: acked.requests.length, a: acked.approvals.length }));

    const second = await serve(store);
    try {
      const issued = new Set((await eventsOf(store, 'token.issued')).map((e) => e.data.jti));
      const missingTokens = acked.jtis.filter((j) => !issued.has(j));
      assert.deepEqual(missingTokens, [], 'every token answered with 200 has its token.issued event');
      const rows = await store.db.selectFrom('tokens').select('jti').where('jti', 'in', acked.jtis).execute();
      assert.equal(rows.length, acked.jtis.length, 'and its record');
      const submitted = new Set((await eventsOf(store, 'request.created')).map((e) => e.data.requestId));
      assert.deepEqual(acked.requests.filter((id) => !submitted.has(id)), []);
      const approvals = [...(await eventsOf(store, 'request.stage_approved')), ...(await eventsOf(store, 'request.approval_recorded'))];
      const seen = new Set(approvals.map((e) => `${e.data.requestId} ${e.actor}`));
      assert.deepEqual(acked.approvals.filter(([id, who]) => !seen.has(`${id} ${who}`)), []);

      const report = await verifyStore(store);
      assert.equal(report.ok, true, JSON.stringify(report.problem));
      assert.ok(report.checkpoints.valid > 0);
      // The restarted server says the same through its API.
      const auditor = await form(`${second.url}/token`, { grant_type: 'client_credentials' }, { authorization: AUDITOR });
      const viaApi = await api(second.url, auditor.body.access_token, 'GET', '/audit/verify');
      assert.equal(viaApi.body.ok, true, JSON.stringify(viaApi.body.problem));
    } finally {
      await second.kill('SIGTERM');
    }
  });
});
