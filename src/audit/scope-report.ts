/**
 * "Who held this scope, when, for how long, approved by whom, and why": the
 * auditor's report over a time window, from grants joined with the access
 * requests that created them. Standing access (group baselines, policy
 * exceptions) is in the policy file, not here: this covers every
 * just-in-time elevation.
 */
import type { Selectable } from 'kysely';
import type { Store } from '../store/open.js';
import type { AccessRequestTable, GrantTable } from '../store/schema.js';

/** How a holding ended, or that it has not. */
export type HoldingEnd = 'active' | 'expired' | 'revoked' | 'released';

/** One grant of the scope that was live at some point in the window. */
export interface ScopeHolding {
  principal: string;
  /** Every scope of the grant (the reported one among them). */
  scopes: string[];
  resource: string;
  grant_id: string;
  request_id: string;
  /** RFC 3339. */
  started_at: string;
  /** When it stopped (end of window, revocation or release); null while active. */
  ended_at: string | null;
  end: HoldingEnd;
  /** Seconds held so far (to `now` while active). */
  held_s: number;
  /** Who approved, in stage order; empty when the policy approved on its own. */
  approved_by: string[];
  /** `approvers`, `policy` (a rule approved it), or `break_glass`. */
  approval: 'approvers' | 'policy' | 'break_glass';
  /** The rule that decided, when one did. */
  rule: string | null;
  reason: string;
  ticket: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

export interface ScopeReportQuery {
  scope: string;
  /** Epoch seconds: holdings live at any time in [sinceS, untilS). */
  sinceS: number;
  untilS: number;
  nowS: number;
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

type GrantRow = Selectable<GrantTable>;
type RequestRow = Pick<Selectable<AccessRequestTable>, 'reason' | 'ticket' | 'decision' | 'state'>;

interface StateApprovals {
  breakGlass?: boolean;
  stages?: { approvals?: { by: string }[] }[];
}

/** The holding a grant and its request describe, as of `nowS` (pure). */
export function holdingOf(g: GrantRow, r: RequestRow | null, nowS: number): ScopeHolding {
  const stops: { at: number; end: HoldingEnd }[] = [{ at: g.ends_at, end: 'expired' }];
  if (g.revoked_at !== null) stops.push({ at: g.revoked_at, end: 'revoked' });
  if (g.released_at !== null) stops.push({ at: g.released_at, end: 'released' });
  const stop = stops.reduce((a, b) => (b.at < a.at ? b : a));
  const ended = stop.at <= nowS;
  const endAt = ended ? Math.max(stop.at, g.starts_at) : null;
  let state: StateApprovals = {};
  let decision: { rule?: string | null } = {};
  try {
    if (r) {
      state = JSON.parse(r.state) as StateApprovals;
      decision = JSON.parse(r.decision) as { rule?: string | null };
    }
  } catch {
    // A request row that no longer parses still leaves the grant's own facts.
  }
  const approvedBy = (state.stages ?? []).flatMap((s) => (s.approvals ?? []).map((a) => a.by));
  const breakGlass = g.break_glass === 1 || state.breakGlass === true;
  return {
    principal: g.principal,
    scopes: g.scopes.split(' '),
    resource: g.resource,
    grant_id: g.id,
    request_id: g.request_id,
    started_at: iso(g.starts_at),
    ended_at: endAt === null ? null : iso(endAt),
    end: ended ? stop.end : 'active',
    held_s: Math.max(0, (endAt ?? nowS) - g.starts_at),
    approved_by: approvedBy,
    approval: breakGlass ? 'break_glass' : approvedBy.length > 0 ? 'approvers' : 'policy',
    rule: decision.rule ?? null,
    reason: r?.reason ?? '',
    ticket: r?.ticket ?? null,
    revoked_by: g.revoked_by,
    revoke_reason: g.revoke_reason,
  };
}

/**
 * Grants of `q.scope` that were live at some time in the window, oldest
 * first. A grant is live from its start to the earliest of its end, its
 * revocation and its release.
 */
export async function scopeReport(store: Store, q: ScopeReportQuery): Promise<ScopeHolding[]> {
  const liveFrom = Math.min(q.untilS, q.nowS + 1);
  const rows = await store.db
    .selectFrom('grants')
    .leftJoin('access_requests', 'access_requests.id', 'grants.request_id')
    .selectAll('grants')
    .select([
      'access_requests.reason as req_reason',
      'access_requests.ticket as req_ticket',
      'access_requests.decision as req_decision',
      'access_requests.state as req_state',
    ])
    // Started before the window closed (and by now), ended after it opened.
    .where('grants.starts_at', '<', liveFrom)
    .where('grants.ends_at', '>', q.sinceS)
    .where((eb) => eb.or([eb('grants.revoked_at', 'is', null), eb('grants.revoked_at', '>', q.sinceS)]))
    .where((eb) => eb.or([eb('grants.released_at', 'is', null), eb('grants.released_at', '>', q.sinceS)]))
    .orderBy('grants.starts_at')
    .orderBy('grants.id')
    .execute();
  const out: ScopeHolding[] = [];
  for (const row of rows) {
    if (!row.scopes.split(' ').includes(q.scope)) continue;
    const request =
      row.req_decision === null || row.req_state === null
        ? null
        : { reason: row.req_reason ?? '', ticket: row.req_ticket, decision: row.req_decision, state: row.req_state };
    const h = holdingOf(row, request, q.nowS);
    // Revoked or released before it ever started: never held.
    if (h.end !== 'active' && h.held_s === 0) continue;
    out.push(h);
  }
  return out;
}
