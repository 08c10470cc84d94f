import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { authenticate } from './bearer-auth.js';
import { Problem } from '../problem.js';
import { AUDIT_SCOPE, type Actor } from '../../access/actor.js';
import { queryAudit } from '../../audit/query.js';
import { verifyStore, type VerifyRun } from '../../audit/verify-store.js';

const MAX_LIMIT = 1000;
const TYPE = /^[a-z0-9_.]+\*?$/;

function requireAuditScope(actor: Actor): void {
  if (!actor.scopes.has(AUDIT_SCOPE)) {
    throw new Problem(403, 'insufficient_scope', `reading the audit log needs a token with the ${AUDIT_SCOPE} scope`, {
      extra: { scope: AUDIT_SCOPE },
      headers: { 'www-authenticate': `Bearer realm="jitgate", error="insufficient_scope", scope="${AUDIT_SCOPE}"` },
    });
  }
}

function intParam(raw: string | undefined, name: string, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Problem(400, 'query_invalid', `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** GET /api/v1/audit (events, paged by seq) and GET /api/v1/audit/verify (needs jitgate:audit). */
export function registerAuditRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/audit', async (req) => {
    requireAuditScope(await authenticate(ctx, req));
    const q = req.query as Record<string, string | string[] | undefined>;
    const one = (name: string): string | undefined => {
      const v = q[name];
      if (Array.isArray(v)) throw new Problem(400, 'query_invalid', `give ${name} once (several types go comma-separated)`);
      return v;
    };
    const types = (one('type') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const bad = types.find((t) => !TYPE.test(t));
    if (bad) throw new Problem(400, 'query_invalid', `type ${JSON.stringify(bad)} is not an event type (e.g. grant.revoked) or a prefix (grant.*)`);
    const page = await queryAudit(ctx.store, {
      after: intParam(one('after'), 'after', 0, 0, Number.MAX_SAFE_INTEGER),
      types,
      principal: one('principal') || null,
      scope: one('scope') || null,
      limit: intParam(one('limit'), 'limit', 100, 1, MAX_LIMIT),
    });
    return page;
  });

  // One verification at a time: concurrent callers share the run in progress.
  let running: Promise<VerifyRun> | null = null;
  api.get('/audit/verify', async (req) => {
    requireAuditScope(await authenticate(ctx, req));
    running ??= verifyStore(ctx.store).finally(() => {
      running = null;
    });
    return running;
  });
}
