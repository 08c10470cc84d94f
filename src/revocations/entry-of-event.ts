/**
 * How an audit event becomes a feed entry (pure). The event says what was
 * revoked; `until` needs facts the event does not carry for events written
 * elsewhere (a token's `exp`, a grant's end), which the caller looks up.
 */
import type { RevocationEntry } from './entry.js';

/** The parts of an audit record the feed reads. */
export interface FeedSourceEvent {
  seq: number;
  /** RFC 3339. */
  at: string;
  type: string;
  subject: string | null;
  data: Record<string, unknown>;
}

/** An entry whose `until` may still be unknown. */
export type PendingEntry = Omit<RevocationEntry, 'until'> & { until: number | null };

/** Facts about the affected tokens, looked up when the event does not carry `until`. */
export interface UntilFacts {
  /** `token`: the revoked token's `exp`; null when its record is gone (expired and pruned). */
  tokenExp?: number | null;
  /** `grant`: the grant's end; null when unknown. */
  grantEndsAt?: number | null;
  /** `grant`: the latest `exp` among tokens recorded for the grant; null when none. */
  grantTokensMaxExp?: number | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** What the event revokes, or null when it is not a revocation (or malformed). */
export function pendingEntryOf(ev: FeedSourceEvent): PendingEntry | null {
  const ms = Date.parse(ev.at);
  if (!Number.isFinite(ms)) return null;
  const at = Math.floor(ms / 1000);
  const d = ev.data;
  switch (ev.type) {
    case 'token.revoked': {
      const jti = text(d.jti);
      if (!jti) return null;
      return { cursor: ev.seq, kind: 'token', at, until: null, jti, ...(ev.subject ? { principal: ev.subject } : {}) };
    }
    case 'grant.revoked':
    case 'grant.released': {
      const grant = text(d.grantId);
      if (!grant) return null;
      const principal = text(d.principal) ?? ev.subject;
      return { cursor: ev.seq, kind: 'grant', at, until: null, grant, ...(principal ? { principal } : {}) };
    }
    case 'scope.withdrawn': {
      const principal = text(d.principal) ?? ev.subject;
      const scopes = Array.isArray(d.scopes) ? d.scopes.filter((s): s is string => typeof s === 'string' && s !== '') : [];
      if (!principal || scopes.length === 0) return null;
      const until = typeof d.until === 'number' && Number.isSafeInteger(d.until) ? d.until : null;
      return { cursor: ev.seq, kind: 'principal_scope', at, until, principal, scopes };
    }
    default:
      return null;
  }
}

/**
 * The latest `exp` of the tokens an entry affects. A revoked token's own
 * `exp` (its record gone means it has expired already). A grant's tokens end
 * with the grant and were all issued before the revocation, so none outlives
 * `at + tokenLifetimeS`; tokens recorded with a longer life (a server once
 * run with a longer lifetime) still count.
 */
export function untilOf(entry: PendingEntry, facts: UntilFacts, tokenLifetimeS: number): number {
  if (entry.until !== null) return entry.until;
  switch (entry.kind) {
    case 'token':
      return facts.tokenExp ?? entry.at;
    case 'grant': {
      const bound = Math.min(facts.grantEndsAt ?? entry.at + tokenLifetimeS, entry.at + tokenLifetimeS);
      return Math.max(bound, facts.grantTokensMaxExp ?? 0);
    }
    case 'principal_scope':
      return entry.at + tokenLifetimeS;
  }
}
