import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { measureCycles } from '../../bench/lib/cycles.js';
import { fetchHttp } from '../../bench/lib/fetch-http.js';
import { ApiToken, STEP, elevationPaths, fileRequest, jwtClaims } from '../../bench/lib/elevation-steps.js';
import { jitCycle } from '../../bench/cases/jit-cycle.js';
import { tokenExchangeElevated } from '../../bench/cases/token-exchange-elevated.js';
import { APPROVER_CLIENT_ID, APPROVER_CLIENT_SECRET, ELEVATED_SCOPE, REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET } from '../../bench/lib/fixture.js';
import type { CyclePlan, CycleSubject, LoadCase, MeasureSettings, RunningServer, Subject } from '../../bench/lib/types.js';
// Last: the database harness probes PostgreSQL with a 1 s timeout while the modules after it load.
import { startTestServer, type TestServer } from '../helpers/server.js';
import { forEachDatabase } from '../helpers/databases.js';

const BENCH_POLICY = readFileSync(new URL('../../bench/policy.yaml', import.meta.url), 'utf8');
const SHORT: MeasureSettings = { connections: 3, warmupS: 0.3, durationS: 1 };

/** The in-process test server seen the way the bench runner sees a child server (its pid is this process). */
async function asBenchServer(srv: TestServer): Promise<RunningServer> {
  const metadata = (await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
  return { id: 'jitgate-test', baseUrl: srv.url, pid: process.pid, metadata, outputTail: async () => '', stop: async () => {} };
}

forEachDatabase('bench cycles against a real server', (open) => {
  /** A fresh server and database per test, as the runner starts one per load: grants of one test must not cover another's. */
  const withServer = async (fn: (srv: TestServer, server: RunningServer) => Promise<void>) => {
    const srv = await startTestServer({ open, policyText: BENCH_POLICY });
    try {
      await fn(srv, await asBenchServer(srv));
    } finally {
      // The SQLite store's checkpoint worker is unref'd while close waits for it to exit; with nothing
      // else pending the event loop would empty first and the test end unfinished. Hold it open until closed.
      const hold = setInterval(() => {}, 1000);
      try {
        await srv.close();
      } finally {
        clearInterval(hold);
      }
    }
  };

  test('jit_cycle: every measured cycle files, approves and exchanges; the figure is clean', () =>
    withServer(async (srv, server) => {
      const subject: CycleSubject = jitCycle.subjects({ pg: false })[0]!;
      const plan = await subject.prepare(server, SHORT);
      const { figures, problems } = await measureCycles(server, plan, SHORT);
      assert.deepEqual(problems, []);
      assert.equal(figures.unit, 'cycle');
      assert.ok(figures.requests > 0, 'cycles completed');
      assert.ok(figures.rps > 0 && figures.p50Ms > 0 && figures.p99Ms >= figures.p50Ms);
      assert.ok(figures.serverCpuS !== null && figures.serverPeakRssMiB !== null);
      const steps = Object.fromEntries((figures.steps ?? []).map((s) => [s.step, s]));
      assert.deepEqual(Object.keys(steps), [STEP.request, STEP.approve, STEP.exchange]);
      // Every response inside the measured time had the expected status.
      for (const [step, code] of [[STEP.request, '201'], [STEP.approve, '200'], [STEP.exchange, '200']] as const) {
        assert.deepEqual(Object.keys(steps[step]!.statusCodes).filter((c) => c !== code), []);
        assert.equal(steps[step]!.ok, steps[step]!.statusCodes[code] ?? 0);
      }
      assert.ok(Math.abs(figures.durationS - SHORT.durationS) < 0.1, `measured for ${figures.durationS} s`);

      const approved = await srv.ctx.store.db.selectFrom('access_requests').select(['status', 'requester']).execute();
      assert.ok(approved.length > figures.requests, 'the first cycle, the warm-up and the drain file requests too');
      assert.ok(approved.every((r) => r.status === 'approved' && r.requester === `client:${REQUESTER_CLIENT_ID}`));
    }));

  test('a cycle answered with an unexpected status fails the figure; a first cycle that fails stops the load', () =>
    withServer(async (srv, server) => {
      const paths = elevationPaths(server);
      // Even cycles ask for longer than max_ttl: 422 where 201 is expected.
      const flaky: CyclePlan = {
        steps: [STEP.request],
        describe: 'test',
        async worker(index, http) {
          const requester = await ApiToken.obtain(http, paths, REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
          return {
            async cycle(n) {
              await fileRequest(http, paths, requester.value, n % 2 === 0 ? '99h' : '1m', `test cycle ${n} of worker ${index}`);
            },
          };
        },
      };
      const { figures, problems } = await measureCycles(server, flaky, { ...SHORT, warmupS: 0 });
      assert.ok(figures.non2xx > 0);
      assert.equal(figures.statusCodes[`${STEP.request} 422`], figures.non2xx);
      assert.ok(problems.some((p) => new RegExp(`unexpected statuses \\(\\d+×${STEP.request} 422\\)`).test(p)), problems.join('; '));

      const broken: CyclePlan = {
        ...flaky,
        async worker(i, http) {
          const w = await flaky.worker(i, http);
          return { cycle: () => w.cycle(2) };
        },
      };
      await assert.rejects(measureCycles(server, broken, SHORT), /did not complete a first cycle: request: 422 \(duration_too_long\), expected 201/);
    }));

  test('token_exchange_elevated: one grant, the exchange load is clean, and the check after it fails once the grant is revoked', () =>
    withServer(async (srv, server) => {
      const [exchange, reference] = (tokenExchangeElevated as LoadCase).subjects({ pg: false }) as [Subject, Subject];
      assert.equal(reference.role, 'peer');
      assert.equal(reference.target, undefined, 'client_credentials is for reference');
      assert.deepEqual(reference.against, [exchange.server.id]);

      const plan = await exchange.prepare(server, SHORT);
      const res = await fetch(plan.url, { method: plan.method, headers: plan.headers, body: plan.bodies[0] });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 200);
      const claims = jwtClaims(body.access_token as string);
      assert.ok(claims && typeof claims.grant === 'string');
      assert.ok((claims.scope as string).split(' ').includes(ELEVATED_SCOPE));
      await exchange.verify!(server, plan);

      const http = fetchHttp(server.baseUrl);
      const approver = await ApiToken.obtain(http, elevationPaths(server), APPROVER_CLIENT_ID, APPROVER_CLIENT_SECRET);
      const revoke = await fetch(`${srv.url}/api/v1/grants/${claims.grant as string}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${approver.value}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'end of the benchmark grant' }),
      });
      assert.equal(revoke.status, 200);
      await assert.rejects(exchange.verify!(server, plan), /exchange: 400 \(invalid_scope\), expected 200/);
    }));

  test('token_exchange_elevated refuses a load that would outlast the scope max_ttl', () =>
    withServer(async (srv, server) => {
      const [exchange] = (tokenExchangeElevated as LoadCase).subjects({ pg: false }) as [Subject];
      await assert.rejects(exchange.prepare(server, { connections: 1, warmupS: 5, durationS: 3600 }), /longer than the max_ttl of deploy:bench/);
    }));

  test('a baseline token is renewed when it nears expiry, and not before', () =>
    withServer(async (srv, server) => {
      const http = fetchHttp(server.baseUrl);
      const token = await ApiToken.obtain(http, elevationPaths(server), REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
      const first = token.value;
      assert.ok(token.remainingS() > 60);
      await token.renewIfNear(http);
      assert.equal(token.value, first);
      await token.renewIfNear(http, token.expiresAtMs - 30_000);
      assert.notEqual(token.value, first);
      assert.ok(token.remainingS() > 60);
    }));
});
