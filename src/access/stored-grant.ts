import type { Selectable } from 'kysely';
import type { GrantTable } from '../store/schema.js';
import type { ReviewableGrant, GrantReview } from './grant-commands.js';

export type GrantRow = Selectable<GrantTable>;

/** The lifecycle view of a stored grant, as the pure grant functions take it. */
export function grantRecordOf(row: GrantRow): ReviewableGrant & { scopes: string[]; resource: string } {
  return {
    id: row.id,
    requestId: row.request_id,
    principal: row.principal,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    revokedAt: row.revoked_at,
    releasedAt: row.released_at,
    review: row.review as GrantReview,
    reviewedBy: row.reviewed_by,
    reviewedAt: row.reviewed_at,
    scopes: row.scopes.split(' '),
    resource: row.resource,
  };
}
