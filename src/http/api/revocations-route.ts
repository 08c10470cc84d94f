import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { Problem, forbidden } from '../problem.js';
import { nowS } from '../../util/clock.js';
import { FEED_EVENT, GATEWAY_SCOPE } from '../../revocations/entry.js';
import { revocationFeedOf } from '../../revocations/feed.js';
import { sseComment, sseEvent } from '../../revocations/sse.js';

const DEFAULT_HEARTBEAT_MS = 2000;
const MIN_HEARTBEAT_MS = 250;
const MAX_HEARTBEAT_MS = 30_000;

/**
 * GET /api/v1/revocations?after=CURSOR&heartbeat=MS: the revocation feed as
 * Server-Sent Events, for clients holding `jitgate:gateway` (docs/gateway.md).
 * Entries after the cursor still worth knowing, a `ready` event, then live
 * entries as they are committed, with a comment every `heartbeat` ms so the
 * reader can tell a quiet feed from a dead one. The stream ends (event
 * `end`) when the reader's token expires; it reconnects with a fresh one.
 */
export function registerRevocationsRoute(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/revocations', async (req, reply) => {
    const actor = await authenticate(ctx, req);
    if (!actor.scopes.has(GATEWAY_SCOPE)) {
      throw forbidden(`reading the revocation feed needs the ${GATEWAY_SCOPE} scope`, { scope: GATEWAY_SCOPE });
    }
    const q = req.query as Record<string, string | undefined>;
    const after = cursorParam(q.after ?? (req.headers['last-event-id'] as string | undefined));
    const heartbeatMs = heartbeatParam(q.heartbeat);
    const exp = tokenExp(req.headers.authorization!);
    const feed = revocationFeedOf(ctx);
    if (!feed) throw new Problem(503, 'feed_unavailable', 'the revocation feed is not running on this server');

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    raw.flushHeaders();
    let closed = false;
    let unsubscribe: (() => void) | null = null;
    const heartbeat = setInterval(() => {
      if (nowS(ctx.clock) >= exp) return end('token_expired');
      raw.write(sseComment('keep-alive'));
    }, heartbeatMs);
    const cleanup = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe?.();
    };
    const end = (reason: string) => {
      if (closed) return;
      raw.end(sseEvent(FEED_EVENT.end, { reason }));
      cleanup();
    };
    raw.on('close', cleanup);
    raw.write(sseComment('jitgate revocation feed'));
    try {
      const stop = await feed.subscribe(after, {
        entry: (e) => {
          if (!closed) raw.write(sseEvent(FEED_EVENT.revocation, e, e.cursor));
        },
        ready: (cursor) => {
          if (!closed) raw.write(sseEvent(FEED_EVENT.ready, { cursor }, cursor));
        },
      });
      if (closed) stop();
      else unsubscribe = stop;
    } catch (err) {
      ctx.log.error({ err }, 'serving the revocation feed failed');
      end('server_error');
    }
    return reply;
  });
}

function cursorParam(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new Problem(400, 'query_invalid', 'after must be a whole number (the cursor of the last entry read)');
  }
  return n;
}

function heartbeatParam(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_HEARTBEAT_MS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < MIN_HEARTBEAT_MS || n > MAX_HEARTBEAT_MS) {
    throw new Problem(400, 'query_invalid', `heartbeat must be a whole number of milliseconds from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}`);
  }
  return n;
}

/**
 * `exp` of the bearer token `authenticate` has just matched byte for byte
 * against the server's own record, so its payload can be read as is.
 */
function tokenExp(authorization: string): number {
  const payload = authorization.slice(7).trim().split('.')[1] ?? '';
  const exp: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).exp;
  return typeof exp === 'number' ? exp : 0;
}
