/**
 * The upstream API behind the gateway and the plain proxy in the gateway
 * cases: a bare node:http server that drains the request and answers every
 * path with the same small JSON body (about the size of a small REST
 * answer). Both proxies forward to it, so what separates their figures is
 * the proxy alone.
 */
import { createServer } from 'node:http';
import { peerPort, stopOnSignal } from '../lib/peer-args.js';

const port = peerPort();
const body = Buffer.from(JSON.stringify({ ok: true, items: [{ id: 'item-1', name: 'first' }, { id: 'item-2', name: 'second' }] }));

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`upstream listening on http://127.0.0.1:${port}\n`);
});
stopOnSignal(() => server.close());
