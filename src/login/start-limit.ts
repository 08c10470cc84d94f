import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import { FailureLimiter } from '../http/failure-limiter.js';
import { messagePage, sendPage } from './html.js';

/**
 * Sign-ins started per address within the window. Each start is a stored
 * row (a pending login) made for a caller nobody has authenticated yet, so
 * it is bounded like the other unauthenticated writes; a person needs one or
 * two, and an office behind one address many more, hence the same bound as
 * failed client authentications per address.
 */
export const MAX_LOGIN_STARTS_PER_ADDRESS = 100;
export const LOGIN_START_WINDOW_MS = 300_000;

const limiters = new WeakMap<ServerContext, FailureLimiter>();

function limiterOf(ctx: ServerContext): FailureLimiter {
  let l = limiters.get(ctx);
  if (!l) {
    l = new FailureLimiter({ maxFailures: MAX_LOGIN_STARTS_PER_ADDRESS, windowMs: LOGIN_START_WINDOW_MS });
    limiters.set(ctx, l);
  }
  return l;
}

/**
 * Counts a sign-in about to start from the request's address. Past the
 * bound it answers 429 with `Retry-After` and a page saying so, and returns
 * true: the caller then writes nothing.
 */
export function refuseLoginStart(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): boolean {
  const limiter = limiterOf(ctx);
  const nowMs = ctx.clock.nowMs();
  const wait = limiter.blockedFor(req.ip, nowMs);
  if (wait > 0) {
    reply.header('retry-after', String(Math.ceil(wait / 1000))).header('cache-control', 'no-store');
    sendPage(reply, 429, messagePage('Too many sign-ins', 'Too many sign-ins were started from this address. Wait a few minutes, then try again.'));
    return true;
  }
  limiter.recordFailure(req.ip, nowMs);
  return false;
}
