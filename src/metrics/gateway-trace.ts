/**
 * One request through the gateway as operations see it: its id, what is
 * known of it so far (resource, route, principal), and its end — counted in
 * the metrics and, for refusals, logged at `info` with the reason (at
 * `debug` for 503s, which come in floods while the feed is down). Never the
 * token: nothing here ever holds it.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Problem } from '../http/problem.js';
import { sendProblem } from '../gateway/answers.js';
import { NO_RESOURCE, type GatewayMetrics } from './gateway-metrics.js';

export class GatewayRequestTrace {
  /** The resource's audience once chosen. */
  resource: string = NO_RESOURCE;
  /** The matched route's path pattern. */
  route: string | null = null;
  /** The token's `sub` once verified. */
  principal: string | null = null;
  private readonly startMs: number;

  constructor(
    readonly id: string,
    private readonly method: string | undefined,
    private readonly target: string | undefined,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly nowMs: () => number,
    /** Log forwarded requests too (`--access-log`). */
    private readonly accessLog = false,
  ) {
    this.startMs = nowMs();
  }

  /** Sends `problem` as the answer (with the request id), counts it and logs it. Same signature as `sendProblem`. */
  refuse(res: ServerResponse, problem: Problem, close = false): void {
    if (!res.headersSent) res.setHeader('x-request-id', this.id);
    sendProblem(res, problem, close);
    const cells = this.metrics.resource(this.resource);
    cells.outcome(problem.code).inc();
    cells.duration.observe((this.nowMs() - this.startMs) / 1000);
    const level = problem.status === 503 ? 'debug' : 'info';
    if (!this.log.isLevelEnabled(level)) return;
    const q = this.target === undefined ? -1 : this.target.indexOf('?');
    this.log[level](
      {
        reqId: this.id,
        resource: this.resource === NO_RESOURCE ? null : this.resource,
        method: this.method,
        path: q < 0 ? this.target : this.target!.slice(0, q),
        route: this.route,
        principal: this.principal,
        status: problem.status,
        code: problem.code,
        reason: problem.message,
      },
      'gateway refused a request',
    );
  }

  /**
   * The upstream exchange is over: `outcome` is `forwarded`, or the code of
   * the problem the forwarding answered with (`upstream_unreachable`, …).
   */
  forwarded(outcome: string, upstreamStartMs: number, status: number): void {
    const now = this.nowMs();
    const cells = this.metrics.resource(this.resource);
    cells.outcome(outcome).inc();
    cells.upstream.observe((now - upstreamStartMs) / 1000);
    cells.duration.observe((now - this.startMs) / 1000);
    if (outcome === 'forwarded' && this.accessLog) {
      this.log.info(
        { reqId: this.id, resource: this.resource, method: this.method, route: this.route, principal: this.principal, status, ms: Math.round((now - this.startMs) * 100) / 100 },
        'forwarded',
      );
    } else if (outcome !== 'forwarded' && outcome !== 'aborted') {
      this.log.info(
        { reqId: this.id, resource: this.resource, method: this.method, route: this.route, principal: this.principal, status, code: outcome },
        'gateway refused a request: the upstream failed',
      );
    }
  }
}
