/**
 * The demo's "billing" API, which the demo gateway stands in front of. It
 * accepts only the API key the gateway injects, and says so in each answer
 * (`"authenticated_as": "gateway"`) without ever echoing the key: what a
 * caller sees proves that the gateway swapped their jitgate token for the
 * API's own credential.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeServer, listenOnLoopback } from './loopback.js';

export interface DemoUpstream {
  url: string;
  close(): Promise<void>;
}

const INVOICES = [
  { id: 'inv-2026-0301', customer: 'Acme GmbH', amount: '1200.00', currency: 'EUR', status: 'paid' },
  { id: 'inv-2026-0302', customer: 'Globex Ltd', amount: '880.50', currency: 'EUR', status: 'open' },
  { id: 'inv-2026-0303', customer: 'Initech AG', amount: '4310.00', currency: 'EUR', status: 'overdue' },
];

/** Compares digests so that neither the length nor the content of the expected value leaks through timing. */
function sameSecret(given: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), expectedDigest);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
}

/**
 * Starts it on 127.0.0.1:`port` (0: any free port). Requests must carry
 * `Authorization: Bearer <apiKey>`; anything else is 401.
 */
export async function startDemoUpstream(opts: { apiKey: string; port?: number }): Promise<DemoUpstream> {
  const expected = createHash('sha256').update(`Bearer ${opts.apiKey}`).digest();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume(); // bodies are not read; drain them so the connection can be reused
    if (!sameSecret(req.headers.authorization ?? '', expected)) {
      send(res, 401, { error: 'unauthenticated', detail: "the request does not carry the billing API's key" });
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const who = { authenticated_as: 'gateway', request_id: req.headers['x-request-id'] ?? null };
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/invoices' || path === '/invoices/') {
        send(res, 200, { ...who, invoices: INVOICES });
        return;
      }
      const one = /^\/invoices\/([^/]+)$/.exec(path);
      const invoice = one ? INVOICES.find((i) => i.id === one[1]) : undefined;
      if (invoice) send(res, 200, { ...who, invoice });
      else send(res, 404, { ...who, error: 'not_found' });
      return;
    }
    if ((req.method === 'POST' || req.method === 'DELETE') && path.startsWith('/admin/')) {
      send(res, 200, { ...who, done: `${req.method} ${path}` });
      return;
    }
    send(res, 404, { ...who, error: 'not_found' });
  });
  const url = await listenOnLoopback(server, opts.port ?? 0, 'demo billing API');
  return { url, close: () => closeServer(server) };
}
