import type { ServerContext } from '../http/context.js';
import { Problem, notFound, forbidden } from '../http/problem.js';
import { nowS } from '../util/clock.js';
import { grantRecordOf, type GrantRow } from './stored-grant.js';
import { revokeGrant, releaseGrant, reviewGrant, type GrantCommandResult } from './grant-commands.js';
import { grantStatus, type GrantStatus } from './grant-status.js';
import { grantView } from './views.js';
import { auditRecordOf } from './audit-mapping.js';
import { ADMIN_SCOPE, AUDIT_SCOPE, type Actor } from './actor.js';
import { loadRequest, isApproverOf } from './request-service.js';
import type { GrantEvent } from './events.js';

const STATUSES = new Set<GrantStatus>(['scheduled', 'active', 'expired', 'revoked', 'released']);

export interface GrantFilter {
  status?: string;
  principal?: string;
  review?: string;
  limit: number;
}

/** Grants the actor may see: their own, or anyone's with jitgate:admin or jitgate:audit. */
export async function listGrants(ctx: ServerContext, actor: Actor, filter: GrantFilter): Promise<Record<string, unknown>[]> {
  const privileged = actor.scopes.has(ADMIN_SCOPE) || actor.scopes.has(AUDIT_SCOPE);
  if (filter.principal && filter.principal !== actor.principal && !privileged) {
    throw forbidden(`listing the grants of ${filter.principal} needs ${AUDIT_SCOPE} or ${ADMIN_SCOPE}`);
  }
  if (filter.status && !STATUSES.has(filter.status as GrantStatus)) {
    throw new Problem(400, 'query_invalid', `status must be one of ${[...STATUSES].join(', ')}`);
  }
  const principal = filter.principal ?? (privileged ? undefined : actor.principal);
  let q = ctx.store.db.selectFrom('grants').selectAll().orderBy('created_at', 'desc').orderBy('id');
  if (principal) q = q.where('principal', '=', principal);
  if (filter.review) q = q.where('review', '=', filter.review);
  const now = nowS(ctx.clock);
  const rows = await q.limit(filter.status ? filter.limit * 10 : filter.limit).execute();
  const out: Record<string, unknown>[] = [];
  for (const r of rows) {
    const view = grantView(r, now);
    if (filter.status && view.status !== filter.status) continue;
    out.push(view);
    if (out.length >= filter.limit) break;
  }
  return out;
}

/** Ends a grant early. Holders of jitgate:admin and the request's approvers may revoke. */
export async function revoke(ctx: ServerContext, actor: Actor, id: string, reason: string): Promise<Record<string, unknown>> {
  const row = await loadGrant(ctx, actor, id);
  if (!actor.scopes.has(ADMIN_SCOPE)) {
    const req = await loadRequest(ctx, row.request_id);
    if (!req || !isApproverOf(ctx.policy.current, actor.principal, req.state)) {
      throw forbidden(`revoking needs ${ADMIN_SCOPE} or being an approver of the request`);
    }
  }
  const now = nowS(ctx.clock);
  return apply(ctx, row, revokeGrant(grantRecordOf(row), { by: actor.principal, at: now, reason }), {
    revoked_at: now,
    revoked_by: actor.principal,
    revoke_reason: reason.trim(),
  });
}

/** The holder gives the grant up; its tokens stop working at once. */
export async function release(ctx: ServerContext, actor: Actor, id: string): Promise<Record<string, unknown>> {
  // Anyone who can see the grant learns it is not theirs to give up (not_holder), as documented.
  const row = await loadGrant(ctx, actor, id);
  const now = nowS(ctx.clock);
  return apply(ctx, row, releaseGrant(grantRecordOf(row), { by: actor.principal, at: now }), { released_at: now });
}

/** Closes the after-the-fact review of a break-glass grant (jitgate:admin or jitgate:audit). */
export async function review(ctx: ServerContext, actor: Actor, id: string, note: string | null): Promise<Record<string, unknown>> {
  if (!actor.scopes.has(ADMIN_SCOPE) && !actor.scopes.has(AUDIT_SCOPE)) {
    throw forbidden(`reviewing break-glass access needs ${AUDIT_SCOPE} or ${ADMIN_SCOPE}`);
  }
  const row = await loadGrant(ctx, actor, id);
  const now = nowS(ctx.clock);
  const result = reviewGrant(grantRecordOf(row), { by: actor.principal, at: now, note });
  return apply(ctx, row, result, { review: 'done', reviewed_by: actor.principal, reviewed_at: now, review_note: note?.trim() || null });
}

/** The grant, or 404 unless the actor holds it, is privileged, or is an approver of its request. */
async function loadGrant(ctx: ServerContext, actor: Actor, id: string): Promise<GrantRow> {
  const row = await ctx.store.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
  const privileged = actor.scopes.has(ADMIN_SCOPE) || actor.scopes.has(AUDIT_SCOPE);
  if (!row) throw notFound(`grant ${id}`);
  if (row.principal !== actor.principal && !privileged) {
    const req = await loadRequest(ctx, row.request_id);
    if (!req || !isApproverOf(ctx.policy.current, actor.principal, req.state)) throw notFound(`grant ${id}`);
  }
  return row;
}

/**
 * Writes a grant command's outcome. The update only applies while the grant
 * is still unrevoked and unreleased, so two racing revocations record one.
 */
async function apply(
  ctx: ServerContext,
  row: GrantRow,
  result: GrantCommandResult<unknown, GrantEvent>,
  set: Partial<Pick<GrantRow, 'revoked_at' | 'revoked_by' | 'revoke_reason' | 'released_at' | 'review' | 'reviewed_by' | 'reviewed_at' | 'review_note'>>,
): Promise<Record<string, unknown>> {
  if (!result.ok) throw new Problem(result.status, result.code, result.message);
  const applied = await ctx.audit.transact(async (trx, append) => {
    let q = trx.updateTable('grants').set(set).where('id', '=', row.id);
    q = 'review' in set ? q.where('review', '=', 'pending') : q.where('revoked_at', 'is', null).where('released_at', 'is', null);
    const res = await q.executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await append(result.effects.map((e) => auditRecordOf(e, row.principal)));
    return true;
  });
  if (!applied) throw new Problem(409, 'grant_not_live', 'the grant changed meanwhile; read it again');
  const fresh = await ctx.store.db.selectFrom('grants').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
  ctx.log.info({ grant: row.id, principal: row.principal, change: Object.keys(set)[0] }, 'grant changed');
  return grantView(fresh, nowS(ctx.clock));
}

export { grantStatus };
