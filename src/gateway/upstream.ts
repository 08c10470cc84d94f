/**
 * Forwarding to upstreams: one undici Pool with keep-alive per upstream
 * origin, bodies streamed both ways with backpressure (nothing is
 * buffered whole, however large), the caller's disconnect aborting the
 * upstream request, and a 502/504 problem when the upstream fails before
 * answering. After the answer has begun, a failure can only cut the
 * connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeBody } from './pipe-body.js';
import { watchCallerGone } from './caller-gone.js';
import { Pool, errors } from 'undici';
import type { Logger } from 'pino';
import { downstreamResponseHeaders } from './forward-headers.js';
import { problems, sendProblem } from './answers.js';

export interface UpstreamOptions {
  /** Connections per upstream. Default 64. */
  connections?: number;
  /** Wait for the upstream's response headers, ms. Default 30000. */
  headersTimeoutMs?: number;
  /** Longest silence within a response body, ms. Default 300000. */
  bodyTimeoutMs?: number;
}

export class Upstreams {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly opts: UpstreamOptions,
    private readonly log: Logger,
  ) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.opts.connections ?? 64,
        keepAliveTimeout: 10_000,
        headersTimeout: this.opts.headersTimeoutMs ?? 30_000,
        bodyTimeout: this.opts.bodyTimeoutMs ?? 300_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Sends `req` to `origin` + `path` with `headers` and streams the answer
   * into `res`. Resolves when the exchange is over, to how it ended:
   * `forwarded` (the upstream answered, even if the stream broke later),
   * `aborted` (the caller went away first), or the code of the problem sent.
   */
  async forward(
    req: IncomingMessage,
    res: ServerResponse,
    target: { origin: string; path: string; headers: string[]; requestId: string },
  ): Promise<'forwarded' | 'aborted' | 'upstream_timeout' | 'upstream_unreachable'> {
    const gone = watchCallerGone(res);
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    let answer: Awaited<ReturnType<Pool['request']>>;
    try {
      answer = await this.pool(target.origin).request({
        path: target.path,
        method: req.method as 'GET',
        headers: target.headers,
        body: hasBody ? req : null,
        signal: gone.signal,
      });
    } catch (err) {
      gone.done();
      if (gone.left) return 'aborted';
      const timeout = err instanceof errors.HeadersTimeoutError || err instanceof errors.ConnectTimeoutError;
      this.log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code }, upstream: target.origin, reqId: target.requestId }, 'upstream request failed');
      if (!res.headersSent) res.setHeader('x-request-id', target.requestId);
      sendProblem(res, timeout ? problems.upstreamTimeout() : problems.upstreamUnreachable(), !req.complete);
      return timeout ? 'upstream_timeout' : 'upstream_unreachable';
    }
    try {
      res.writeHead(answer.statusCode, downstreamResponseHeaders(answer.headers, target.requestId));
      await pipeBody(answer.body, res);
    } catch (err) {
      if (!gone.left) {
        this.log.warn({ err: { message: (err as Error).message }, upstream: target.origin, reqId: target.requestId }, 'streaming the upstream answer failed');
      }
      answer.body.destroy();
      res.destroy();
    } finally {
      gone.done();
    }
    return 'forwarded';
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => p.destroy())));
    this.pools.clear();
  }
}
