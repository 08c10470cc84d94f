/**
 * The ceiling for the gateway: a pass-through reverse proxy on the same stack
 * the gateway uses — a node:http server, one pooled undici client with
 * keep-alive to the upstream, bodies streamed both ways — with no
 * authentication, routing or header injection. It only drops the hop-by-hop
 * headers any proxy must drop, streams with the gateway's own pipeBody
 * (src/gateway/pipe-body.ts) and aborts the upstream request of a caller
 * that left with the gateway's own watchCallerGone (src/gateway/caller-gone.ts),
 * so both pay the same forwarding cost. Whatever the gateway costs beyond
 * this proxy is the price of its checks.
 *
 *   node --import tsx bench/peers/plain-proxy.ts --port N --upstream http://127.0.0.1:M
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { pipeBody } from '../../src/gateway/pipe-body.js';
import { watchCallerGone } from '../../src/gateway/caller-gone.js';
import { peerPort, stopOnSignal } from '../lib/peer-args.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { port: { type: 'string' }, upstream: { type: 'string' } }, strict: true });
const port = peerPort(['--port', values.port ?? '']);
if (!values.upstream) throw new Error('the plain proxy needs --upstream URL');

/** RFC 9110 §7.6.1 connection-specific headers, and Host (the pool sets its own). */
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

// The gateway's pool settings (src/gateway/upstream.ts), so both proxies reach the upstream alike.
const pool = new Pool(values.upstream, { connections: 64, keepAliveTimeout: 10_000, headersTimeout: 30_000, bodyTimeout: 300_000 });

function requestHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!DROP.has(name.toLowerCase())) out.push(name, raw[i + 1]!);
  }
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !DROP.has(k)) out[k] = v;
  return out;
}

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const gone = watchCallerGone(res);
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  try {
    const answer = await pool.request({
      path: req.url ?? '/',
      method: req.method as 'GET',
      headers: requestHeaders(req.rawHeaders),
      body: hasBody ? req : null,
      signal: gone.signal,
    });
    res.writeHead(answer.statusCode, responseHeaders(answer.headers));
    await pipeBody(answer.body, res);
  } catch {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"upstream_unreachable"}');
    } else {
      res.destroy();
    }
  } finally {
    gone.done();
  }
}

// The gateway's server settings (src/gateway/gateway.ts).
const server = createServer({ requestTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => void forward(req, res));

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`plain proxy listening on http://127.0.0.1:${port} → ${values.upstream}\n`);
});
stopOnSignal(() => {
  server.close();
  void pool.close();
});
