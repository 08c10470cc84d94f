import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { interleavedOpenLoads, type HttpLoad } from '../../bench/lib/http-loads.js';
import type { LoadResult } from '../../bench/lib/types.js';

/** A server that notes when each request arrived and answers the body the load expects. */
async function recordingServer(name: string, arrivals: { name: string; at: number }[]): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    arrivals.push({ name, at: performance.now() });
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const loadOf = (origin: string): HttpLoad => ({ origin, requests: [{ method: 'GET', path: '/items/1', headers: {} }], expectBody: '"ok":true' });

test('half-load rounds take turns between the targets and pool each one\'s latencies', async () => {
  const arrivals: { name: string; at: number }[] = [];
  const a = await recordingServer('a', arrivals);
  const b = await recordingServer('b', arrivals);
  try {
    const rate = 400;
    const rounds = 4;
    const settings = { durationS: 1.2, warmupS: 0.1, connections: 4 };
    const out = await interleavedOpenLoads([{ pid: process.pid, load: loadOf(a.origin) }, { pid: process.pid, load: loadOf(b.origin) }], rate, settings, rounds);

    // Arrivals come in runs (warm-ups included): a b | b a | a b | b a, so a, b, a, b, a once neighbours merge.
    const runs: string[] = [];
    for (const { name } of arrivals) if (runs[runs.length - 1] !== name) runs.push(name);
    assert.deepEqual(runs, ['a', 'b', 'a', 'b', 'a']);

    // Each side's figures cover all its rounds: the measured time is split over them.
    assert.equal(out.figures.length, 2);
    assert.equal(out.roundP99Ms.length, 2);
    for (const [i, f] of out.figures.entries()) {
      assert.equal(out.roundP99Ms[i]!.length, rounds);
      assert.ok(Math.abs(f.durationS - settings.durationS) < 0.5, `measured ${f.durationS} s in all`);
      assert.ok(Math.abs(f.requests - rate * settings.durationS) <= rate * 0.15, `${f.requests} requests at ${rate}/s`);
      assert.equal(f.non2xx + f.errors + f.timeouts + f.mismatches, 0);
      assert.ok(f.p99Ms >= f.p50Ms && f.maxMs >= f.p99Ms && f.p50Ms > 0);
      // The pooled p99 lies within the rounds' own.
      assert.ok(f.p99Ms <= Math.max(...out.roundP99Ms[i]!) + 1e-9);
    }
  } finally {
    a.server.close();
    b.server.close();
  }
});

test('the added p99 passes or fails only where its interval lies wholly on one side of 1 ms', async () => {
  const { addedP99 } = await import('../../bench/cases/gateway.js');
  const at = (p99Ms: number): LoadResult => ({
      serverId: 'x', label: 'x', role: 'jitgate', unit: 'request', rps: 1000, p50Ms: 1, p90Ms: 2, p99Ms, maxMs: p99Ms + 1, requests: 1000, durationS: 1,
      errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, statusCodes: {}, serverCpuS: 1, serverCpuPct: 50, serverCpuUsPerReq: 100,
      serverPeakRssMiB: 100, serverMaxSampledRssMiB: 100, clientCpuPct: 10, loadAvgBefore: 0.5, problems: [], describe: 'd',
  });
  const interval = (low: number, high: number) => ({ low, high, resamples: 2000, level: 0.9 });
  assert.equal(addedP99(at(2.3), at(2.0), interval(0.1, 0.6)).verdict, 'pass');
  assert.equal(addedP99(at(2.3), at(2.0), interval(0.1, 1.0)).verdict, 'pass', 'the limit itself is allowed');
  assert.equal(addedP99(at(4.0), at(2.0), interval(1.5, 2.5)).verdict, 'fail');
  // An interval across the limit cannot tell, whichever side the point lies on.
  const wide = addedP99(at(12), at(20), interval(-10, 9));
  assert.equal(wide.verdict, 'invalid');
  assert.match(wide.why ?? '', /^inconclusive: added p99 -8\.000 ms, 90 % interval -10\.000 to 9\.000 ms/);
  assert.equal(addedP99(at(26), at(20), interval(0.5, 12)).verdict, 'invalid');
  // Without rounds to judge by, or without a figure, nothing is judged.
  assert.equal(addedP99(at(2.3), at(2.0), null).verdict, 'invalid');
  assert.equal(addedP99(undefined, at(20), interval(0, 0.5)).verdict, 'invalid');
});
