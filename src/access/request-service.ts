import type { ServerContext } from '../http/context.js';
import { Problem, notFound } from '../http/problem.js';
import { nowS } from '../util/clock.js';
import { validateAccessRequest } from './validate-request.js';
import { decide, NO_HISTORY } from '../policy/decide.js';
import { openRequest, approve, deny, cancel, tick, type RequestState, type Transition } from './request-machine.js';
import { grantEventsBetween } from './grant-status.js';
import { findGrantRow, grantRecordOf, type GrantRow } from './stored-grant.js';
import { newGrantRow, timesHeld, policyReadsHistory } from './grant-rows.js';
import { findRequestRow, newRequestRow, parseRequestRow, type StoredRequest } from './stored-request.js';
import { requestView } from './views.js';
import { auditRecordOf } from './audit-mapping.js';
import type { NewAuditEvent } from '../audit/append.js';
import { mfaSatisfied, stepUpRequired } from '../identity/mfa.js';
import { newId } from './ids.js';
import { ADMIN_SCOPE, AUDIT_SCOPE, type Actor } from './actor.js';
import type { DomainEvent } from './events.js';
import type { Policy } from '../policy/types.js';

/** Optimistic writes retry this often before answering 409; each round lets one writer through. */
const MAX_ATTEMPTS = 25;

/** The REST view of a request as of now, or 404 when the actor may not see it. */
export async function getRequest(ctx: ServerContext, actor: Actor, id: string): Promise<Record<string, unknown>> {
  const stored = await loadRequest(ctx, id);
  if (!stored || !canSee(ctx.policy.current, actor, stored)) throw notFound(`request ${id}`);
  return viewOf(ctx, stored);
}

/** Files a request: validated, decided by the policy, and granted at once when the policy approves. */
export async function submitRequest(ctx: ServerContext, actor: Actor, body: unknown): Promise<Record<string, unknown>> {
  const policy = ctx.policy.current;
  const now = nowS(ctx.clock);
  const v = validateAccessRequest(policy, body, {
    principal: actor.principal,
    nowS: now,
    maxDurationS: ctx.config.maxGrantS,
    maxScheduleAheadS: ctx.config.maxScheduleAheadS,
  });
  if (!v.ok) {
    const { code, status, message, ...extra } = v.error;
    throw new Problem(status, code, message, { extra: snakeExtra(extra) });
  }
  const req = v.value;
  if (req.mfaRequired && !mfaSatisfied(policy, { sub: actor.principal, ...actor }, now, ctx.config.mfaMaxAgeS)) {
    throw stepUpRequired('these scopes need a recent multi-factor sign-in', ctx.config.mfaMaxAgeS);
  }
  const history = policyReadsHistory(policy) ? { timesHeld: await timesHeld(ctx.store.db, actor.principal) } : NO_HISTORY;
  const decision = decide(policy, req, { epochMs: ctx.clock.nowMs() }, history);
  ctx.metrics.decision(decision.outcome);
  const stored = {
    rule: decision.rule,
    outcome: decision.outcome,
    message: decision.message,
    policy_hash: decision.policy_hash,
    ...(decision.condition_error ? { condition_error: decision.condition_error } : {}),
  };
  const opened = openRequest({
    id: newId('req'),
    requester: actor.principal,
    decision,
    durationS: req.durationS,
    startsAt: req.startsAt,
    at: now,
    ttlS: ctx.config.requestTtlS,
  });
  const grant = opened.state.status === 'approved' ? newGrantRow(opened.state, req, now) : null;
  const row = newRequestRow(req, opened.state, stored, grant?.id ?? null);
  const events: NewAuditEvent[] = opened.effects.map((e) => auditRecordOf(e, actor.principal));
  events[0]!.data = { ...events[0]!.data, scopes: req.scopes, resource: req.resource, duration_s: req.durationS, reason: req.reason, ticket: req.ticket };
  await ctx.audit.transact(async (trx, append) => {
    await trx.insertInto('access_requests').values(row).execute();
    if (grant) {
      await trx.insertInto('grants').values(grant).execute();
      events.push(...grantEvents(grant as GrantRow, now));
    }
    await append(events);
  });
  ctx.log.info({ request: row.id, requester: actor.principal, scopes: req.scopes, outcome: decision.outcome, rule: decision.rule }, 'access request filed');
  return getRequest(ctx, actor, row.id);
}

export type RequestCommand =
  | { kind: 'approve'; comment: string | null }
  | { kind: 'deny'; reason: string }
  | { kind: 'cancel' };

/**
 * Applies an approval, denial or cancellation. The state machine decides;
 * the write succeeds only if nobody else changed the request since it was
 * read (version check), otherwise it is read again and re-decided, so any
 * number of concurrent approvals make exactly one transition.
 */
export async function commandRequest(ctx: ServerContext, actor: Actor, id: string, cmd: RequestCommand): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const stored = await loadRequest(ctx, id);
    const policy = ctx.policy.current;
    if (!stored || !canSee(policy, actor, stored)) throw notFound(`request ${id}`);
    const now = nowS(ctx.clock);
    const byGroups = policy.groupsOf.get(actor.principal) ?? [];
    let result: Transition;
    if (cmd.kind === 'approve') {
      result = approve(stored.state, { by: actor.principal, byGroups, at: now, comment: cmd.comment });
      if (result.ok && needsMfa(policy, stored) && !mfaSatisfied(policy, { sub: actor.principal, ...actor }, now, ctx.config.mfaMaxAgeS)) {
        throw stepUpRequired('approving these scopes needs a recent multi-factor sign-in', ctx.config.mfaMaxAgeS);
      }
    } else if (cmd.kind === 'deny') {
      result = deny(stored.state, { by: actor.principal, byGroups, at: now, reason: cmd.reason });
    } else {
      result = cancel(stored.state, { by: actor.principal, at: now });
    }
    if (!result.ok) {
      if (result.code === 'self_approval' && cmd.kind === 'approve') {
        // Refused, so nothing else changes: the attempt gets its own transaction (feeds the self_approval_attempt alert).
        await ctx.audit.transact((_trx, append) =>
          append([{ type: 'request.self_approval_attempt', actor: actor.principal, subject: stored.row.requester, data: { requestId: id, scopes: stored.scopes }, atMs: now * 1000 }]),
        );
      }
      throw new Problem(result.status, result.code, result.message);
    }
    if (await persistTransition(ctx, stored, result.state, result.effects, now)) {
      ctx.log.info({ request: id, by: actor.principal, command: cmd.kind, status: result.state.status }, 'access request changed');
      return getRequest(ctx, actor, id);
    }
  }
  throw new Problem(409, 'conflict', 'the request is changing too quickly; read it again and retry');
}

/**
 * Writes what time alone did to a pending request (escalation, expiry):
 * the sweeper's job. Status never waits for it; this only records events.
 */
export async function recordTimePassing(ctx: ServerContext, stored: StoredRequest): Promise<boolean> {
  const now = nowS(ctx.clock);
  const t = tick(stored.state, now);
  if (t.effects.length === 0) return false;
  return persistTransition(ctx, stored, t.state, t.effects, now);
}

async function persistTransition(
  ctx: ServerContext,
  stored: StoredRequest,
  state: RequestState,
  effects: readonly DomainEvent[],
  now: number,
): Promise<boolean> {
  const grant =
    state.status === 'approved' && stored.row.grant_id === null
      ? newGrantRow(state, { principal: stored.row.requester, scopes: stored.scopes, resource: stored.row.resource }, now)
      : null;
  const events: NewAuditEvent[] = effects.map((e) => auditRecordOf(e, stored.row.requester));
  return ctx.audit.transact(async (trx, append) => {
    const res = await trx
      .updateTable('access_requests')
      .set({
        state: JSON.stringify(state),
        status: state.status,
        updated_at: now,
        version: stored.row.version + 1,
        grant_id: grant?.id ?? stored.row.grant_id,
      })
      .where('id', '=', stored.row.id)
      .where('version', '=', stored.row.version)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    if (grant) {
      await trx.insertInto('grants').values(grant).execute();
      events.push(...grantEvents(grant as GrantRow, now));
    }
    await append(events);
    return true;
  });
}

function grantEvents(grant: GrantRow, now: number): NewAuditEvent[] {
  const record = grantRecordOf(grant);
  const created: NewAuditEvent = {
    type: 'grant.created',
    actor: null,
    subject: grant.principal,
    data: {
      grantId: grant.id,
      requestId: grant.request_id,
      scopes: record.scopes,
      resource: grant.resource,
      startsAt: grant.starts_at,
      endsAt: grant.ends_at,
      breakGlass: grant.break_glass === 1,
    },
    atMs: now * 1000,
  };
  return [created, ...grantEventsBetween(record, -Infinity, now).map((e) => auditRecordOf(e, grant.principal))];
}

export async function loadRequest(ctx: ServerContext, id: string): Promise<StoredRequest | null> {
  const row = await findRequestRow(ctx.store.db, id);
  return row ? parseRequestRow(row) : null;
}

export async function viewOf(ctx: ServerContext, stored: StoredRequest): Promise<Record<string, unknown>> {
  const now = nowS(ctx.clock);
  const state = tick(stored.state, now).state;
  const grant = stored.row.grant_id
    ? ((await findGrantRow(ctx.store.db, stored.row.grant_id)) ?? null)
    : null;
  return requestView(stored, state, grant, now);
}

/** The requester, anyone who may decide any stage of it, and holders of jitgate:admin or jitgate:audit. */
export function canSee(policy: Policy, actor: Actor, stored: StoredRequest): boolean {
  if (stored.row.requester === actor.principal) return true;
  if (actor.scopes.has(ADMIN_SCOPE) || actor.scopes.has(AUDIT_SCOPE)) return true;
  return isApproverOf(policy, actor.principal, stored.state);
}

/** Member of any approver or escalation group of any stage. */
export function isApproverOf(policy: Policy, principal: string, state: RequestState): boolean {
  const groups = policy.groupsOf.get(principal);
  if (!groups || groups.length === 0) return false;
  return state.stages.some((s) => s.approvers.some((g) => groups.includes(g)) || s.escalateTo.some((g) => groups.includes(g)));
}

function needsMfa(policy: Policy, stored: StoredRequest): boolean {
  return stored.scopes.some((s) => policy.scopes.get(s)?.mfa);
}

/** RequestError details in the wire's snake_case. */
function snakeExtra(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) continue;
    out[k === 'eligibleBundles' ? 'eligible_bundles' : k === 'maxS' ? 'max_s' : k] = v;
  }
  return out;
}
