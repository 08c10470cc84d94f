import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerEnd, encodeRequest, runWindow, type DriverMessage, type WindowReport } from '../../bench/lib/open-loop-driver.js';
import { pinApart, pinned } from '../../bench/lib/cpu-pinning.js';

const run = promisify(execFile);

test('a request is encoded once with its Host, headers and a body length', () => {
  const get = encodeRequest('http://127.0.0.1:8081', { method: 'GET', path: '/items/42', headers: { authorization: 'Bearer t' } });
  assert.equal(get.toString('latin1'), 'GET /items/42 HTTP/1.1\r\nhost: 127.0.0.1:8081\r\nauthorization: Bearer t\r\n\r\n');
  const post = encodeRequest('http://127.0.0.1:8081', { method: 'POST', path: '/token', headers: {}, body: 'a=1' });
  assert.match(post.toString('latin1'), /\r\ncontent-length: 3\r\n\r\na=1$/);
});

test('an answer ends after its Content-Length, its last chunk, or its head when it has no body', () => {
  const cl = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}');
  assert.equal(answerEnd(cl), cl.length);
  assert.equal(answerEnd(cl.subarray(0, cl.length - 1)), -1, 'one byte short is incomplete');
  assert.equal(answerEnd(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le')), -1, 'a partial head is incomplete');
  const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{"ok":true}\r\n0\r\n\r\n');
  assert.equal(answerEnd(chunked), chunked.length);
  assert.equal(answerEnd(chunked.subarray(0, chunked.length - 2)), -1);
  const empty = Buffer.from('HTTP/1.1 204 No Content\r\n\r\n');
  assert.equal(answerEnd(empty), empty.length);
});

test('a window drains when the target drops every connection, counting each request it lost', { timeout: 20_000 }, async () => {
  // One connection and a rate far above what it can carry: most requests wait in the queue when the connection dies.
  const server = createServer((req) => req.socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const seen: DriverMessage[] = [];
    const order = { type: 'window' as const, id: 1, origin, requests: [{ method: 'GET' as const, path: '/x', headers: {} }], expectBody: 'ok', rate: 500, seconds: 0.2, connections: 1 };
    await runWindow(order, (m) => void seen.push(m));
    assert.deepEqual(seen.map((m) => m.type), ['started', 'done']);
    const report = seen[1] as WindowReport;
    assert.equal(report.latenciesMs.length, 0);
    assert.equal(report.errors + report.timeouts, 100, 'every request sent is accounted for as lost');
  } finally {
    server.close();
  }
});

/** The CPUs `pid` may run on, as taskset prints them (`0`, `1`, `0,1`, `0-1`). */
async function affinity(pid: number): Promise<string> {
  const { stdout } = await run('taskset', ['-c', '-p', String(pid)]);
  return stdout.trim().split(': ').pop()!;
}

test('pinning leaves the last CPU to the measured process, confines the rest to the others, and releases both', async (t) => {
  const hasTaskset = await run('taskset', ['--version']).then(() => true, () => false);
  const { availableParallelism } = await import('node:os');
  if (!hasTaskset || availableParallelism() < 2) return t.skip('needs taskset and two CPUs');
  const spawnIdle = () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  const measured = spawnIdle();
  const other = spawnIdle();
  try {
    const before = await affinity(measured.pid!);
    const p = await pinApart([measured.pid!], [other.pid!]);
    assert.ok(pinned(p), 'pinned');
    const last = availableParallelism() - 1;
    assert.equal(await affinity(measured.pid!), before, 'the measured process may run anywhere');
    assert.doesNotMatch(await affinity(other.pid!), new RegExp(`(^|[,-])${last}$`), 'the others never on the last CPU');
    await p.release();
    assert.equal(await affinity(measured.pid!), before);
    assert.equal(await affinity(other.pid!), before);
  } finally {
    measured.kill();
    other.kill();
  }
});
