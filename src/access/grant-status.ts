/**
 * A grant's status is never stored as a fact that needs a sweeper to stay
 * true: it follows from its window, its revocation and its release at the
 * moment of each check. Instants are epoch seconds.
 */
import type { GrantEvent } from './events.js';

export type GrantStatus = 'scheduled' | 'active' | 'expired' | 'revoked' | 'released';

export interface GrantTimes {
  startsAt: number;
  /** First instant the grant no longer covers. */
  endsAt: number;
  revokedAt: number | null;
  releasedAt: number | null;
}

/**
 * The status at `nowS`. The window is half-open, [startsAt, endsAt). Of
 * revocation, release and the end of the window, the earliest that has
 * happened decides (on a tie: revoked, then released, then expired), so a
 * grant revoked after it expired stays expired and one revoked while
 * scheduled is revoked.
 */
export function grantStatus(grant: GrantTimes, nowS: number): GrantStatus {
  let status: GrantStatus | null = null;
  let when = Infinity;
  if (grant.revokedAt !== null && grant.revokedAt <= nowS && grant.revokedAt < when) {
    status = 'revoked';
    when = grant.revokedAt;
  }
  if (grant.releasedAt !== null && grant.releasedAt <= nowS && grant.releasedAt < when) {
    status = 'released';
    when = grant.releasedAt;
  }
  if (grant.endsAt <= nowS && grant.endsAt < when) status = 'expired';
  if (status !== null) return status;
  return nowS < grant.startsAt ? 'scheduled' : 'active';
}

/** Whether the grant puts its scopes into a token at `nowS`. */
export function grantCovers(grant: GrantTimes, nowS: number): boolean {
  return grantStatus(grant, nowS) === 'active';
}

/**
 * The window of a grant approved at `approvedAt`: it begins when access
 * begins, the later of approval and the requested start, and lasts the
 * requested duration from there, so time spent waiting for approvers is not
 * taken out of it.
 */
export function grantWindow(
  requestedStartsAt: number | null,
  approvedAt: number,
  durationS: number,
): { startsAt: number; endsAt: number } {
  const startsAt = requestedStartsAt !== null && requestedStartsAt > approvedAt ? requestedStartsAt : approvedAt;
  return { startsAt, endsAt: startsAt + durationS };
}

/** A stored grant as far as its lifecycle events need it. */
export interface GrantRecord extends GrantTimes {
  id: string;
  requestId: string;
  principal: string;
}

/**
 * The `grant.started` and `grant.expired` events whose instants fall in
 * (`sinceS`, `nowS`]: what a sweeper records when it passes by. Status does
 * not depend on them; they only write down that time moved on.
 */
export function grantEventsBetween(grant: GrantRecord, sinceS: number, nowS: number): GrantEvent[] {
  const out: GrantEvent[] = [];
  const base = { grantId: grant.id, requestId: grant.requestId, principal: grant.principal };
  const inRange = (t: number) => t > sinceS && t <= nowS;
  const stoppedBefore = (t: number) =>
    (grant.revokedAt !== null && grant.revokedAt <= t) || (grant.releasedAt !== null && grant.releasedAt <= t);
  if (inRange(grant.startsAt) && !stoppedBefore(grant.startsAt)) {
    out.push({ type: 'grant.started', ...base, at: grant.startsAt, endsAt: grant.endsAt });
  }
  if (inRange(grant.endsAt) && !stoppedBefore(grant.endsAt)) {
    out.push({ type: 'grant.expired', ...base, at: grant.endsAt });
  }
  return out;
}
