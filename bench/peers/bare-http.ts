/**
 * The HTTP ceiling of this machine: a bare node:http server that reads the
 * request body and answers with a fixed small JSON body, whatever the path.
 * Any server built on node:http can at best match it.
 */
import { createServer } from 'node:http';
import { peerPort, stopOnSignal } from '../lib/peer-args.js';

const port = peerPort();
const body = Buffer.from(JSON.stringify({ access_token: 'x'.repeat(16), token_type: 'Bearer', expires_in: 600 }));

const server = createServer((req, res) => {
  // Drain the body like a real endpoint must before it can answer.
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(body);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare-http listening on http://127.0.0.1:${port}\n`);
});
stopOnSignal(() => server.close());
