import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { limitParam } from './body.js';
import { principalParam } from './params.js';
import { Problem, forbidden } from '../problem.js';
import { AUDIT_SCOPE } from '../../access/actor.js';
import { GATEWAY_SCOPE } from '../../revocations/entry.js';
import { nowS } from '../../util/clock.js';
import { parseDuration, DURATION_HINT } from '../../policy/duration.js';
import { parseInstant } from '../../audit/time-window.js';
import { isScopeName } from '../../policy/names.js';
import { ReportError, parseUsageReport, type UsageReport } from '../../usage/report.js';
import { lastUses, listUsage, recordUsage } from '../../usage/usage-store.js';
import { recordGatewayRefusals } from '../../usage/gateway-refusals.js';
import { unusedScopes } from '../../usage/unused.js';

/**
 * Usage of scopes as gateways see it (docs/gateway.md, docs/api.md):
 * - POST /api/v1/usage: a gateway's report (needs jitgate:gateway);
 * - GET /api/v1/usage?principal=&scope=&resource=&since=&limit=: recorded usage (needs jitgate:audit);
 * - GET /api/v1/usage/unused?for=30d&principal=&scope=: baseline and eligible scopes of the policy in force with no use in the window (needs jitgate:audit).
 */
export function registerUsageRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.post('/usage', async (req) => {
    const actor = await authenticate(ctx, req);
    if (!actor.scopes.has(GATEWAY_SCOPE)) throw forbidden(`reporting usage needs the ${GATEWAY_SCOPE} scope`, { scope: GATEWAY_SCOPE });
    const report = checkedReport(req.body, nowS(ctx.clock));
    const recorded = await recordUsage(ctx.store.db, report.usage);
    const refusals = await recordGatewayRefusals(ctx, report.revoked);
    if (report.dropped > 0) {
      ctx.log.warn({ gateway: actor.principal, dropped: report.dropped }, 'a gateway dropped usage it had no room to keep');
    }
    if (refusals.unconfirmed > 0) {
      ctx.log.warn({ gateway: actor.principal, unconfirmed: refusals.unconfirmed }, 'a gateway reported revoked tokens the records do not show as revoked');
    }
    return { recorded, revoked_recorded: refusals.recorded, revoked_unconfirmed: refusals.unconfirmed };
  });

  api.get('/usage', async (req) => {
    const actor = await authenticate(ctx, req);
    if (!actor.scopes.has(AUDIT_SCOPE)) throw forbidden(`reading usage needs the ${AUDIT_SCOPE} scope`, { scope: AUDIT_SCOPE });
    const q = req.query as Record<string, string | undefined>;
    const scope = q.scope;
    if (scope !== undefined && !isScopeName(scope)) throw new Problem(400, 'query_invalid', 'scope must be a scope name');
    const resource = q.resource;
    if (resource !== undefined && (resource.length === 0 || resource.length > 1024 || resource.includes('\u0000'))) {
      throw new Problem(400, 'query_invalid', 'resource must be an audience URI');
    }
    let sinceS: number | undefined;
    if (q.since !== undefined) {
      try {
        sinceS = Math.floor(parseInstant(q.since, 'since', ctx.clock.nowMs()) / 1000);
      } catch (err) {
        throw new Problem(400, 'query_invalid', (err as Error).message);
      }
    }
    const items = await listUsage(ctx.store.db, {
      principal: principalParam(q.principal),
      scope,
      resource,
      sinceS,
      limit: limitParam(q.limit, 500, 5000),
    });
    return { items };
  });

  api.get('/usage/unused', async (req) => {
    const actor = await authenticate(ctx, req);
    if (!actor.scopes.has(AUDIT_SCOPE)) throw forbidden(`reading usage needs the ${AUDIT_SCOPE} scope`, { scope: AUDIT_SCOPE });
    const q = req.query as Record<string, string | undefined>;
    const windowS = parseDuration(q.for);
    if (windowS === null) throw new Problem(400, 'query_invalid', `for must be the window without use: ${DURATION_HINT}`);
    const principal = principalParam(q.principal);
    const scope = q.scope;
    if (scope !== undefined && !isScopeName(scope)) throw new Problem(400, 'query_invalid', 'scope must be a scope name');
    const now = nowS(ctx.clock);
    const sinceS = now - windowS;
    const rows = unusedScopes(ctx.policy.current, await lastUses(ctx.store.db), sinceS, now);
    const items = rows
      .filter((r) => (principal === undefined || r.principal === principal) && (scope === undefined || r.scope === scope))
      .map((r) => ({
        principal: r.principal,
        scope: r.scope,
        kind: r.kind,
        last_used_at: r.lastUsed === null ? null : new Date(r.lastUsed * 1000).toISOString(),
        observed: r.observed,
      }));
    return { since: new Date(sinceS * 1000).toISOString(), items };
  });
}

/** The report, or the problem with it (nothing is written before this passes). */
function checkedReport(body: unknown, now: number): UsageReport {
  try {
    return parseUsageReport(body, now);
  } catch (err) {
    if (err instanceof ReportError) throw new Problem(err.status, err.code, err.message);
    throw err;
  }
}
