import { formatTimestamp } from './timestamp.js';
import { grantStatus } from './grant-status.js';
import type { StoredRequest } from './stored-request.js';
import { grantRecordOf, type GrantRow } from './stored-grant.js';
import type { RequestState } from './request-machine.js';

const iso = (s: number | null) => (s === null ? null : formatTimestamp(s));

/** The REST shape of a grant (DESIGN: `{id, starts_at, ends_at, status}` and more). */
export function grantView(g: GrantRow, nowS: number): Record<string, unknown> {
  return {
    id: g.id,
    request_id: g.request_id,
    principal: g.principal,
    scopes: g.scopes.split(' '),
    resource: g.resource,
    starts_at: iso(g.starts_at),
    ends_at: iso(g.ends_at),
    status: grantStatus(grantRecordOf(g), nowS),
    revoked_at: iso(g.revoked_at),
    revoked_by: g.revoked_by,
    revoke_reason: g.revoke_reason,
    released_at: iso(g.released_at),
    break_glass: g.break_glass === 1,
    review: g.review,
    reviewed_by: g.reviewed_by,
    reviewed_at: iso(g.reviewed_at),
  };
}

/**
 * The REST shape of an access request (DESIGN). `state` is the request as of
 * `nowS` (time already applied), so a request past its TTL reads `expired`
 * before any sweeper has written that down.
 */
export function requestView(r: StoredRequest, state: RequestState, grant: GrantRow | null, nowS: number): Record<string, unknown> {
  return {
    id: r.row.id,
    requester: r.row.requester,
    scopes: r.scopes,
    bundle: r.row.bundle,
    resource: r.row.resource,
    duration_s: r.row.duration_s,
    reason: r.row.reason,
    ticket: r.row.ticket,
    starts_at: iso(r.row.starts_at),
    context: r.context,
    status: state.status,
    decision: r.decision,
    stages: state.stages.map((s) => ({
      approvers: s.approvers,
      count: s.count,
      status: s.status,
      escalate_to: s.escalateTo,
      escalated: s.escalated,
      approvals: s.approvals.map((a) => ({ by: a.by, at: iso(a.at), comment: a.comment })),
    })),
    grant: grant
      ? {
          id: grant.id,
          starts_at: iso(grant.starts_at),
          ends_at: iso(grant.ends_at),
          status: grantStatus(grantRecordOf(grant), nowS),
        }
      : null,
    created_at: iso(r.row.created_at),
    expires_at: iso(state.expiresAt),
    decided_at: iso(state.decidedAt),
  };
}
