import type { AuditEventRecord } from '../audit/append.js';
import { currentDeciders } from '../access/request-machine.js';
import type { EventFacts } from './event-facts.js';

/** Why approvers are told now. */
export type PendingReason = 'submitted' | 'escalated' | 'next_stage';

/** The notice to approvers that a request waits for them (webhook event `request.pending`). */
export interface PendingNotice {
  type: 'request.pending';
  reason: PendingReason;
  /** RFC 3339: when the request started waiting for these approvers. */
  at: string;
  request: {
    id: string;
    requester: string;
    scopes: string[];
    resource: string;
    duration_s: number;
    reason: string;
    ticket: string | null;
    expires_at: string;
    /** Where an approver reads it (and approves with POST …/approve). */
    link: string;
  };
  /** Index of the stage that waits. */
  stage: number;
  /** Groups whose members may decide that stage now (its approvers, plus its escalation groups once escalated). */
  approvers: string[];
  eventSeq: number;
}

/** Audit event types that can start a wait for approvers. */
export const NOTICE_EVENT_TYPES: ReadonlySet<string> = new Set(['request.created', 'request.escalated', 'request.stage_approved']);

/**
 * Notices a committed event calls for: a request filed and waiting at its
 * first stage, a stage that escalated, or a chain that moved on to its next
 * stage. Judged against the request as stored now (facts), so nobody is
 * asked to decide a request that has meanwhile been decided or has moved on.
 */
export function pendingNotices(event: AuditEventRecord, facts: EventFacts, issuer: string): PendingNotice[] {
  const req = facts.request;
  if (!req || req.state.status !== 'pending') return [];
  let reason: PendingReason;
  let stage: number;
  if (event.type === 'request.created' && event.data.outcome === 'stages') {
    reason = 'submitted';
    stage = 0;
  } else if (event.type === 'request.escalated' && typeof event.data.stage === 'number') {
    reason = 'escalated';
    stage = event.data.stage;
  } else if (event.type === 'request.stage_approved' && typeof event.data.stage === 'number') {
    reason = 'next_stage';
    stage = event.data.stage + 1;
  } else {
    return [];
  }
  if (req.state.current !== stage) return [];
  const approvers = currentDeciders(req.state);
  if (approvers.length === 0) return [];
  return [
    {
      type: 'request.pending',
      reason,
      at: event.at,
      request: {
        id: req.id,
        requester: req.requester,
        scopes: req.scopes,
        resource: req.resource,
        duration_s: req.durationS,
        reason: req.reason,
        ticket: req.ticket,
        expires_at: new Date(req.state.expiresAt * 1000).toISOString(),
        link: `${issuer}/api/v1/requests/${encodeURIComponent(req.id)}`,
      },
      stage,
      approvers,
      eventSeq: event.seq,
    },
  ];
}
