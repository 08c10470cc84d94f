/**
 * One entry of the revocation feed (`GET /api/v1/revocations`): what a
 * gateway must stop accepting, and until when it has to remember it.
 * The server writes these from the audit chain; the gateway reads them.
 * Instants are epoch seconds.
 */
import { z } from 'zod';

export type RevocationKind = 'token' | 'grant' | 'principal_scope';

export interface RevocationEntry {
  /** The audit seq of the event it comes from: resume the feed after it. */
  cursor: number;
  kind: RevocationKind;
  /** When it took effect. A `principal_scope` entry ends the tokens issued at or before it. */
  at: number;
  /** The latest `exp` of any token it affects: after this instant it can be forgotten. */
  until: number;
  /** `token`: the revoked token's `jti`. */
  jti?: string;
  /** `grant`: the revoked or released grant, matched against a token's `grant` claim. */
  grant?: string;
  /** `grant` (whose grant) and `principal_scope` (whose scopes). */
  principal?: string;
  /** `principal_scope`: scopes the principal no longer holds. */
  scopes?: string[];
}

/** Audit event types the feed is made of. */
export const FEED_EVENT_TYPES = ['token.revoked', 'grant.revoked', 'grant.released', 'scope.withdrawn'] as const;
export type FeedEventType = (typeof FEED_EVENT_TYPES)[number];

export function isFeedEventType(type: string): type is FeedEventType {
  return (FEED_EVENT_TYPES as readonly string[]).includes(type);
}

/** The scope a client needs to read the feed. */
export const GATEWAY_SCOPE = 'jitgate:gateway';

/** SSE event names on the wire. */
export const FEED_EVENT = { revocation: 'revocation', ready: 'ready', end: 'end' } as const;

const seconds = z.number().int().nonnegative();

const entrySchema = z.object({
  cursor: z.number().int().positive(),
  kind: z.enum(['token', 'grant', 'principal_scope']),
  at: seconds,
  until: seconds,
  jti: z.string().min(1).optional(),
  grant: z.string().min(1).optional(),
  principal: z.string().min(1).optional(),
  scopes: z.array(z.string().min(1)).optional(),
});

/**
 * Reads an entry off the wire; null when it is malformed or lacks what its
 * kind needs (a gateway must not half-apply one).
 */
export function parseRevocationEntry(value: unknown): RevocationEntry | null {
  const parsed = entrySchema.safeParse(value);
  if (!parsed.success) return null;
  const e = parsed.data;
  if (e.kind === 'token' && !e.jti) return null;
  if (e.kind === 'grant' && !e.grant) return null;
  if (e.kind === 'principal_scope' && (!e.principal || !e.scopes?.length)) return null;
  const out: RevocationEntry = { cursor: e.cursor, kind: e.kind, at: e.at, until: e.until };
  if (e.jti !== undefined) out.jti = e.jti;
  if (e.grant !== undefined) out.grant = e.grant;
  if (e.principal !== undefined) out.principal = e.principal;
  if (e.scopes !== undefined) out.scopes = e.scopes;
  return out;
}

/** The `ready` event: the backlog is sent; `cursor` is where a reconnect resumes. */
export interface FeedReady {
  cursor: number;
}

export function parseFeedReady(value: unknown): FeedReady | null {
  const parsed = z.object({ cursor: z.number().int().nonnegative() }).safeParse(value);
  return parsed.success ? { cursor: parsed.data.cursor } : null;
}
