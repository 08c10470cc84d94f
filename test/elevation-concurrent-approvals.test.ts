import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from './helpers/databases.js';
import { useElevationServer, fixturePolicy, assertProblem, type ApiResponse } from './helpers/elevation.js';
import { eventHash } from '../src/audit/append.js';

const POLICY = fixturePolicy('elevation-concurrency.yaml');
const LEADS = Array.from({ length: 10 }, (_, i) => `lead${String(i + 1).padStart(2, '0')}`);
const CONFLICT_CODES = new Set(['not_pending', 'already_approved', 'conflict']);

forEachDatabase('concurrent approvals make exactly one transition', (open) => {
  const h = useElevationServer(open, { policyText: POLICY });

  const request = async (scope: string) => {
    const res = await h.api('alice', 'POST', '/requests', {
      scopes: [scope],
      duration: '20m',
      reason: 'reconcile the ledger after the outage',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    return res.body.id as string;
  };
  const rowsFor = async (id: string) => {
    const db = h.srv.ctx.store.db;
    const grants = await db.selectFrom('grants').select(['id', 'starts_at', 'ends_at']).where('request_id', '=', id).execute();
    const events = await db.selectFrom('audit_events').select(['type', 'data']).execute();
    const mine = events.filter((e) => JSON.parse(e.data).requestId === id).map((e) => e.type);
    const count = (t: string) => mine.filter((x) => x === t).length;
    return { grants, count };
  };
  const assertLosers = (losers: ApiResponse[]) => {
    for (const l of losers) {
      assertProblem(l, 409, l.body?.code ?? '(none)', 'a losing approval');
      assert.ok(CONFLICT_CODES.has(l.body.code), `loser code ${l.body.code}`);
    }
  };
  /** The hash chain is one line: contiguous seq, each event linked to and hashed over the one before. */
  const assertChainIntact = async () => {
    const rows = await h.srv.ctx.store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    let prev: string | null = null;
    rows.forEach((r, i) => {
      assert.equal(Number(r.seq), i + 1);
      if (prev !== null) assert.equal(r.prev_hash, prev, `event ${r.seq} links to its predecessor`);
      const { hash, ...rest } = r;
      assert.equal(eventHash({ ...rest, seq: Number(r.seq), data: JSON.parse(r.data) }), hash, `event ${r.seq} hash`);
      prev = hash;
    });
  };

  test('50 parallel approvals from one approver: one 200, 49 × 409, one grant, one request.approved', async () => {
    await h.login('alice');
    await h.login('lead01');
    const id = await request('read:billing');
    const before = await h.counts();

    const results = await Promise.all(Array.from({ length: 50 }, () => h.api('lead01', 'POST', `/requests/${id}/approve`, {})));
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.ok(!results.some((r) => r.status >= 500), 'never a 500');
    assertLosers(results.filter((r) => r.status !== 200));
    assert.equal(winners[0]!.body.status, 'approved');

    const { grants, count } = await rowsFor(id);
    assert.equal(grants.length, 1, 'exactly one grant row');
    assert.equal(count('request.approved'), 1);
    assert.equal(count('request.stage_approved'), 1);
    assert.equal(count('grant.created'), 1);
    const after = await h.counts();
    assert.equal(after.grants, before.grants + 1);
    assert.equal(after.requests, before.requests);

    const view = await h.api('alice', 'GET', `/requests/${id}`);
    assert.equal(view.body.stages[0].approvals.length, 1);
    assert.equal(view.body.grant.id, grants[0]!.id);
    await assertChainIntact();
  });

  test('50 parallel approvals from 10 approvers on a stage needing 3: three distinct approvals, one transition', async () => {
    for (const lead of LEADS) await h.login(lead);
    const id = await request('admin:billing');

    const calls = LEADS.flatMap((lead) => Array.from({ length: 5 }, () => ({ lead })));
    const results = await Promise.all(
      calls.map(async ({ lead }) => ({ lead, res: await h.api(lead, 'POST', `/requests/${id}/approve`, { comment: `ok from ${lead}` }) })),
    );
    const winners = results.filter((r) => r.res.status === 200);
    assert.equal(winners.length, 3, `statuses: ${results.map((r) => r.res.status).join(',')}`);
    assert.equal(new Set(winners.map((w) => w.lead)).size, 3, 'three different people');
    assert.ok(!results.some((r) => r.res.status >= 500), 'never a 500');
    assertLosers(results.filter((r) => r.res.status !== 200).map((r) => r.res));
    // Exactly one of the winners made the transition to approved.
    assert.equal(winners.filter((w) => w.res.body.status === 'approved').length, 1);

    const view = await h.api('alice', 'GET', `/requests/${id}`);
    assert.equal(view.body.status, 'approved');
    const approvers = view.body.stages[0].approvals.map((a: any) => a.by).sort();
    assert.deepEqual(approvers, winners.map((w) => `user:${w.lead}`).sort());

    const { grants, count } = await rowsFor(id);
    assert.equal(grants.length, 1);
    assert.equal(count('request.approved'), 1);
    assert.equal(count('request.approval_recorded'), 2);
    assert.equal(count('request.stage_approved'), 1);
    assert.equal(count('grant.created'), 1);
    await assertChainIntact();
  });

  test('approvals, denials and the cancel racing each other: exactly one of them decides', async () => {
    const id = await request('read:billing');
    const calls: Promise<ApiResponse>[] = [];
    for (const lead of LEADS) {
      calls.push(h.api(lead, 'POST', `/requests/${id}/approve`, {}));
      calls.push(h.api(lead, 'POST', `/requests/${id}/deny`, { reason: 'not during the freeze window' }));
    }
    calls.push(h.api('alice', 'POST', `/requests/${id}/cancel`));
    const results = await Promise.all(calls);
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    assertLosers(results.filter((r) => r.status !== 200));

    const final = winners[0]!.body.status as string;
    assert.ok(['approved', 'denied', 'cancelled'].includes(final));
    const { grants, count } = await rowsFor(id);
    assert.equal(count('request.approved') + count('request.denied') + count('request.cancelled'), 1);
    assert.equal(grants.length, final === 'approved' ? 1 : 0);
    assert.equal((await h.api('alice', 'GET', `/requests/${id}`)).body.status, final);
    await assertChainIntact();
  });
});
