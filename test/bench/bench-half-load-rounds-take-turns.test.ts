import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { interleavedOpenLoads, type HttpLoad } from '../../bench/lib/http-loads.js';

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
