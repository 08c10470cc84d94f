/**
 * Request counts and latency of the server, from one Fastify `onResponse`
 * hook. Series are labelled by the route pattern (`/api/v1/requests/:id`),
 * never the raw URL, so their number is bounded by the routes; cells are
 * looked up in a map per route and method, built the first time each is
 * answered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerMetrics } from './server-metrics.js';
import type { CounterCell, HistogramCell } from './families.js';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** The label of requests no route matched (404s, malformed URLs). */
export const UNMATCHED_ROUTE = 'unmatched';

interface RouteCells {
  route: string;
  method: string;
  /** Per status class, made on first use so unused classes export no zero series. */
  byClass: (CounterCell | undefined)[];
  duration: HistogramCell;
}

export function registerHttpMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  const routes = new Map<string, Map<string, RouteCells>>();
  const cellsOf = (route: string, method: string): RouteCells => {
    let byMethod = routes.get(route);
    if (!byMethod) routes.set(route, (byMethod = new Map()));
    let cells = byMethod.get(method);
    if (!cells) {
      cells = { route, method, byClass: [], duration: metrics.httpDuration.cell(route, method) };
      byMethod.set(method, cells);
    }
    return cells;
  };
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = req.routeOptions.url;
    const cells = route === undefined ? cellsOf(UNMATCHED_ROUTE, 'any') : cellsOf(route, req.method);
    let cls = Math.floor(reply.statusCode / 100) - 1;
    if (cls < 0 || cls > 4) cls = 4;
    (cells.byClass[cls] ??= metrics.httpRequests.cell(cells.route, cells.method, CLASSES[cls]!)).inc();
    cells.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}
