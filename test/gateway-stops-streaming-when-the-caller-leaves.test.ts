import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { pipeBody } from '../src/gateway/pipe-body.js';

/** An endless upstream body: a chunk each time it is asked, counting what it produced. */
function endless(): { body: Readable; produced: () => number } {
  let n = 0;
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  const body = new Readable({
    read() {
      n++;
      this.push(chunk);
    },
  });
  return { body, produced: () => n };
}

/** A server answering with `handler`, and the URL to reach it. */
async function serve(handler: (res: ServerResponse) => void) {
  const server = createServer((_req, res) => handler(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('a finished body resolves once the caller has all of it', async () => {
  const payload = Buffer.alloc(3 * 1024 * 1024, 0x62);
  let piped: Promise<void> | null = null;
  const srv = await serve((res) => {
    res.writeHead(200, { 'content-length': String(payload.length) });
    piped = pipeBody(Readable.from([payload.subarray(0, 1024 * 1024), payload.subarray(1024 * 1024)]), res);
  });
  try {
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => request(srv.url, resolve).on('error', reject).end());
    let bytes = 0;
    for await (const d of res) bytes += (d as Buffer).length;
    assert.equal(bytes, payload.length);
    await piped;
  } finally {
    await srv.close();
  }
});

test('a caller leaving mid-answer rejects, and the upstream body stops being read', async () => {
  const up = endless();
  let piped: Promise<void> | null = null;
  const srv = await serve((res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    piped = pipeBody(up.body, res);
  });
  try {
    const req = request(srv.url);
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    // Read a little, then go away.
    await once(res, 'data');
    req.destroy();
    await assert.rejects(piped!, /closed before the body was sent/);
    // Unpiped: nothing reads the upstream body any more, even before the gateway destroys it.
    const after = up.produced();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(up.produced() - after <= 1, 'the upstream body was still read after the caller left');
  } finally {
    up.body.destroy();
    await srv.close();
  }
});

test('an upstream body failing mid-answer rejects with its error', async () => {
  let piped: Promise<void> | null = null;
  const srv = await serve((res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1024, 0x63));
    piped = pipeBody(body, res);
    setTimeout(() => body.destroy(new Error('upstream reset')), 20);
  });
  try {
    const req = request(srv.url);
    req.on('error', () => {});
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    res.on('error', () => {});
    res.resume();
    await assert.rejects(piped!, /upstream reset/);
  } finally {
    await srv.close();
  }
});

test('a caller leaving before the upstream answers aborts the upstream request', { timeout: 10_000 }, async () => {
  const { Upstreams } = await import('../src/gateway/upstream.js');
  const { pino } = await import('pino');
  let upstreamClosed!: () => void;
  const upstreamGone = new Promise<void>((r) => (upstreamClosed = r));
  let arrived!: () => void;
  const upstreamGotIt = new Promise<void>((r) => (arrived = r));
  // An upstream that thinks forever: it never answers, and notes when its caller hangs up.
  const upstream = createServer((req) => {
    arrived();
    req.socket.on('close', () => upstreamClosed());
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const origin = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const upstreams = new Upstreams({}, pino({ level: 'silent' }));
  let outcome!: Promise<string>;
  const server = createServer((req, res) => {
    outcome = upstreams.forward(req, res, { origin, path: '/slow', headers: [], requestId: 'rid-gone' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = request(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
  client.on('error', () => {});
  client.end();
  await upstreamGotIt;
  client.destroy();
  await upstreamGone;
  assert.equal(await outcome, 'aborted');
  await upstreams.close();
  server.close();
  upstream.closeAllConnections();
  upstream.close();
});
