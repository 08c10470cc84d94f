import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { single } from '../http/form-body.js';
import { authenticateFormClient } from './client-auth-deps.js';
import { InvalidRequest, InvalidScope, InvalidTarget, TooManyRequests } from './errors.js';
import { FailureLimiter } from '../http/failure-limiter.js';
import { createDeviceAuthorization } from './device-codes.js';
import { parseScopeParam } from '../util/scope-string.js';

/**
 * Device authorizations started per address within the window. Each one is
 * a stored row and a live user code; a person needs one or two.
 */
const MAX_PER_ADDRESS = 30;
const WINDOW_MS = 300_000;
const limiters = new WeakMap<ServerContext, FailureLimiter>();

/** The page where a person types a user code (RFC 8628 §3.3). */
export function verificationUri(issuer: string): string {
  return `${issuer}/device`;
}

/**
 * RFC 8628 §3.1–3.2: a device (the CLI on a machine without a browser) asks
 * for a device code and a user code. The client authenticates as at the
 * token endpoint; a public client names itself with `client_id`. Scopes are
 * checked against the policy here; whether the person holds them is checked
 * when the device polls, once the person is known.
 */
export function registerDeviceAuthorizationEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  let limiter = limiters.get(ctx);
  if (!limiter) {
    limiter = new FailureLimiter({ maxFailures: MAX_PER_ADDRESS, windowMs: WINDOW_MS });
    limiters.set(ctx, limiter);
  }
  const started = limiter;
  app.post('/device_authorization', async (req, reply) => {
    const nowMs = ctx.clock.nowMs();
    const wait = started.blockedFor(req.ip, nowMs);
    if (wait > 0) throw new TooManyRequests('too many device authorizations from this address', wait / 1000);
    started.recordFailure(req.ip, nowMs);
    const params = req.body as FormParams;
    const { client } = await authenticateFormClient(ctx, req);
    const policy = ctx.policy.current;

    const scopeParam = single(params, 'scope');
    const scope = scopeParam === undefined ? [] : parseScopeParam(scopeParam);
    if (scope === null) throw new InvalidRequest('scope contains a malformed scope token');
    const unknown = scope.filter((s) => !policy.scopes.has(s));
    if (unknown.length) throw new InvalidScope(`unknown scope: ${unknown.join(' ')}`, { scopes: unknown });

    const resources = params.getAll('resource');
    if (resources.length > 1) throw new InvalidTarget('one resource per token: send a single resource parameter');
    const resource = resources[0] === undefined || resources[0] === ctx.config.issuer ? null : resources[0];
    if (resource !== null && !policy.resources.has(resource)) throw new InvalidTarget(`unknown resource ${resource}`);

    const made = await createDeviceAuthorization(ctx, { clientId: client.id, scope, resource });
    const uri = verificationUri(ctx.config.issuer);
    reply.header('cache-control', 'no-store');
    return {
      device_code: made.deviceCode,
      user_code: made.userCode,
      verification_uri: uri,
      verification_uri_complete: `${uri}?user_code=${encodeURIComponent(made.userCode)}`,
      expires_in: made.expiresIn,
      interval: made.interval,
    };
  });
}
