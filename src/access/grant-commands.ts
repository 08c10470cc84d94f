/**
 * What can be done to a grant once it exists: revoke it, release it, review
 * it after a break-glass. Pure: the grant and the command in, the changed
 * grant and its event out, or a refusal with a stable code. Who may revoke or
 * review (an administrator, an approver) is decided by the caller; these
 * functions only keep the lifecycle consistent.
 */
import type { GrantRevoked, GrantReleased, GrantReviewed } from './events.js';
import { grantStatus, type GrantRecord } from './grant-status.js';

/** `pending` until someone other than the holder reviews a break-glass grant; `none` for ordinary grants. */
export type GrantReview = 'none' | 'pending' | 'done';

export interface ReviewableGrant extends GrantRecord {
  review: GrantReview;
  reviewedBy: string | null;
  reviewedAt: number | null;
}

export const GRANT_ERROR_STATUS = {
  /** Revoking or releasing a grant that is already over. */
  grant_not_live: 409,
  /** Only the holder releases. */
  not_holder: 403,
  /** Nobody reviews their own break-glass grant. */
  self_review: 403,
  /** The grant needs no review, or was reviewed already. */
  not_pending_review: 409,
  reason_required: 422,
} as const;

export type GrantErrorCode = keyof typeof GRANT_ERROR_STATUS;

export type GrantCommandResult<G, E> =
  | { ok: true; grant: G; effects: E[] }
  | { ok: false; code: GrantErrorCode; status: number; message: string };

function refuse(code: GrantErrorCode, message: string): { ok: false; code: GrantErrorCode; status: number; message: string } {
  return { ok: false, code, status: GRANT_ERROR_STATUS[code], message };
}

/** Ends a scheduled or active grant at `at`, for any reason the caller was allowed to give. */
export function revokeGrant<G extends GrantRecord>(
  grant: G,
  cmd: { by: string; at: number; reason: string },
): GrantCommandResult<G, GrantRevoked> {
  const status = grantStatus(grant, cmd.at);
  if (status !== 'scheduled' && status !== 'active') return refuse('grant_not_live', `the grant is ${status}; only a scheduled or active grant can be revoked`);
  const reason = cmd.reason.trim();
  if (reason === '') return refuse('reason_required', 'say why the grant is revoked');
  return {
    ok: true,
    grant: { ...grant, revokedAt: cmd.at },
    effects: [{ type: 'grant.revoked', grantId: grant.id, requestId: grant.requestId, principal: grant.principal, at: cmd.at, by: cmd.by, reason }],
  };
}

/** The holder gives up a scheduled or active grant early. */
export function releaseGrant<G extends GrantRecord>(grant: G, cmd: { by: string; at: number }): GrantCommandResult<G, GrantReleased> {
  if (cmd.by !== grant.principal) return refuse('not_holder', 'only the holder of a grant can release it');
  const status = grantStatus(grant, cmd.at);
  if (status !== 'scheduled' && status !== 'active') return refuse('grant_not_live', `the grant is ${status}; only a scheduled or active grant can be released`);
  return {
    ok: true,
    grant: { ...grant, releasedAt: cmd.at },
    effects: [{ type: 'grant.released', grantId: grant.id, requestId: grant.requestId, principal: grant.principal, at: cmd.at, by: cmd.by }],
  };
}

/** Closes the review of a break-glass grant; allowed whatever its status, since review looks back. */
export function reviewGrant<G extends ReviewableGrant>(
  grant: G,
  cmd: { by: string; at: number; note?: string | null },
): GrantCommandResult<G, GrantReviewed> {
  if (grant.review !== 'pending') {
    return refuse('not_pending_review', grant.review === 'done' ? `reviewed already by ${grant.reviewedBy}` : 'this grant needs no review');
  }
  if (cmd.by === grant.principal) return refuse('self_review', 'nobody reviews their own break-glass access');
  const note = cmd.note?.trim() || null;
  return {
    ok: true,
    grant: { ...grant, review: 'done', reviewedBy: cmd.by, reviewedAt: cmd.at },
    effects: [{ type: 'grant.reviewed', grantId: grant.id, requestId: grant.requestId, principal: grant.principal, at: cmd.at, by: cmd.by, note }],
  };
}
