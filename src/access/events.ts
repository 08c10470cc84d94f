/**
 * What happened to access requests and grants, as the pure state machines
 * report it. The service stores these in the audit log and feeds detectors
 * and notifications from them; they carry no secrets. Instants are epoch
 * seconds.
 */
import type { DecisionOutcome } from '../policy/decide.js';

interface RequestEventBase {
  requestId: string;
  at: number;
}

/** A request was filed; it records the policy's decision too (outcome, rule, policy hash). */
export interface RequestCreated extends RequestEventBase {
  type: 'request.created';
  requester: string;
  outcome: DecisionOutcome;
  rule: string | null;
  policyHash: string;
}

/** An approver approved the current stage, which still needs more approvals. */
export interface RequestApprovalRecorded extends RequestEventBase {
  type: 'request.approval_recorded';
  by: string;
  stage: number;
  comment: string | null;
  /** Approvals the stage still needs. */
  remaining: number;
}

/** A stage got all its approvals (the approval that completed it is named). */
export interface RequestStageApproved extends RequestEventBase {
  type: 'request.stage_approved';
  by: string;
  stage: number;
  comment: string | null;
}

/** The request is approved: by the last stage's approver, or by the policy (`by` null). */
export interface RequestApproved extends RequestEventBase {
  type: 'request.approved';
  by: string | null;
  breakGlass: boolean;
  /** The window of the grant this approval creates. */
  grant: { startsAt: number; endsAt: number };
}

export interface RequestDenied extends RequestEventBase {
  type: 'request.denied';
  /** The approver who denied, or null when the policy did. */
  by: string | null;
  /** Stage index the denial happened at, null for a policy denial. */
  stage: number | null;
  reason: string;
}

/** A stage's timeout passed: members of `to` may approve it from `at` on. */
export interface RequestEscalated extends RequestEventBase {
  type: 'request.escalated';
  stage: number;
  to: string[];
}

export interface RequestExpired extends RequestEventBase {
  type: 'request.expired';
  /** Stage index it was waiting at. */
  stage: number;
}

export interface RequestCancelled extends RequestEventBase {
  type: 'request.cancelled';
  by: string;
}

interface GrantEventBase {
  grantId: string;
  requestId: string;
  principal: string;
  at: number;
}

/** A grant's window began (at once on approval, or at its scheduled start). */
export interface GrantStarted extends GrantEventBase {
  type: 'grant.started';
  endsAt: number;
}

/** A grant's window ended without revocation or release. */
export interface GrantExpired extends GrantEventBase {
  type: 'grant.expired';
}

export interface GrantRevoked extends GrantEventBase {
  type: 'grant.revoked';
  by: string;
  reason: string;
}

/** The holder gave the grant up before its end. */
export interface GrantReleased extends GrantEventBase {
  type: 'grant.released';
  by: string;
}

/** A break-glass grant was reviewed after the fact. */
export interface GrantReviewed extends GrantEventBase {
  type: 'grant.reviewed';
  by: string;
  note: string | null;
}

export type RequestEvent =
  | RequestCreated
  | RequestApprovalRecorded
  | RequestStageApproved
  | RequestApproved
  | RequestDenied
  | RequestEscalated
  | RequestExpired
  | RequestCancelled;

export type GrantEvent = GrantStarted | GrantExpired | GrantRevoked | GrantReleased | GrantReviewed;

export type DomainEvent = RequestEvent | GrantEvent;

export type DomainEventType = DomainEvent['type'];
