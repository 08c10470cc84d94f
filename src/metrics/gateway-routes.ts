/**
 * The gateway's own endpoints, answered before any routing to upstreams:
 * `GET /healthz` (liveness), `GET /readyz` and `GET /metrics`. These three
 * paths are therefore not reachable on the upstreams through the gateway.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { MetricsAccess } from './metrics-access.js';
import { readinessAnswer, type ReadinessCheck } from './readiness.js';

export interface GatewayOperations {
  metrics: GatewayMetrics;
  access: MetricsAccess;
  readiness(): ReadinessCheck[];
}

/** Answers `req` when it is one of the gateway's own endpoints; false to carry on. */
export function serveOperations(req: IncomingMessage, res: ServerResponse, ops: GatewayOperations): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const url = req.url;
  if (url === '/healthz') {
    send(res, 200, 'application/json', '{"status":"ok"}');
    return true;
  }
  if (url === '/readyz') {
    const answer = readinessAnswer(ops.readiness());
    send(res, answer.status, answer.contentType, JSON.stringify(answer.body));
    return true;
  }
  if (url === '/metrics') {
    const allowed = ops.access.check(req.socket.remoteAddress, req.headers);
    if (!allowed.ok) {
      const p = allowed.problem;
      send(res, p.status, 'application/problem+json', JSON.stringify(p.toJSON()), p.headers);
      return true;
    }
    ops.metrics.registry.metrics().then(
      (text) => send(res, 200, ops.metrics.registry.contentType, text),
      () => send(res, 500, 'text/plain', 'metrics could not be collected\n'),
    );
    return true;
  }
  return false;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
