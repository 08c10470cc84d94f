/**
 * The life of an access request as a pure state machine. Every command takes
 * the current state and the moment it happens, and returns the next state
 * with the domain events it produced, or a refusal with a stable code; the
 * state passed in is never changed. Time is always passed in: commands first
 * apply what time alone did (escalation, expiry), so an escalation target can
 * approve the moment the timeout has passed even if no sweeper ran yet.
 */
import type { Decision } from '../policy/decide.js';
import type { ApprovalStageDef } from '../policy/types.js';
import type {
  RequestApprovalRecorded,
  RequestApproved,
  RequestCancelled,
  RequestDenied,
  RequestEscalated,
  RequestEvent,
  RequestExpired,
  RequestStageApproved,
  RequestCreated,
} from './events.js';
import { grantWindow } from './grant-status.js';

/** How long a request may wait for its approvers unless the server sets another bound. */
export const DEFAULT_REQUEST_TTL_S = 3600;

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
export type StageStatus = 'waiting' | 'active' | 'approved' | 'denied';

export interface Approval {
  by: string;
  at: number;
  comment: string | null;
}

export interface StageState {
  approvers: string[];
  count: number;
  timeoutS: number | null;
  escalateTo: string[];
  status: StageStatus;
  /** When the stage became the current one; null while waiting. */
  activatedAt: number | null;
  /** Its timeout passed and `escalateTo` may approve too. */
  escalated: boolean;
  approvals: Approval[];
}

export interface RequestState {
  id: string;
  requester: string;
  status: RequestStatus;
  stages: StageState[];
  /** Index of the stage being decided; equals stages.length once all passed. */
  current: number;
  createdAt: number;
  /** A request still pending at this instant expires. */
  expiresAt: number;
  durationS: number;
  /** The start the requester asked for, epoch seconds; null for "at approval". */
  startsAt: number | null;
  breakGlass: boolean;
  /** When it left `pending`; null while pending. */
  decidedAt: number | null;
  /** The grant window, set on approval. */
  grant: { startsAt: number; endsAt: number } | null;
}

export const TRANSITION_ERROR_STATUS = {
  /** The request is approved, denied, expired or cancelled already. */
  not_pending: 409,
  /** The requester tried to approve or deny their own request. */
  self_approval: 403,
  /** Not a member of the current stage's approver groups (or its escalation groups once escalated). */
  not_an_approver: 403,
  /** This approver already approved a stage of this request. */
  already_approved: 409,
  /** Only the requester cancels. */
  not_requester: 403,
  /** A denial needs a reason. */
  reason_required: 422,
} as const;

export type TransitionErrorCode = keyof typeof TRANSITION_ERROR_STATUS;

export type Transition<E extends RequestEvent = RequestEvent> =
  | { ok: true; state: RequestState; effects: E[] }
  | { ok: false; code: TransitionErrorCode; status: number; message: string };

export interface OpenInput {
  id: string;
  requester: string;
  decision: Pick<Decision, 'outcome' | 'stages' | 'rule' | 'message' | 'policy_hash'>;
  durationS: number;
  startsAt: number | null;
  /** Submission time, epoch seconds. */
  at: number;
  /** How long it may stay pending; DEFAULT_REQUEST_TTL_S when left out. */
  ttlS?: number;
}

/**
 * A new request after the policy decided on it: approved at once (approve,
 * break-glass), denied at once, or pending at its first stage.
 */
export function openRequest(input: OpenInput): { state: RequestState; effects: RequestEvent[] } {
  const { id, requester, decision, at } = input;
  const stages = decision.outcome === 'stages' ? (decision.stages ?? []).map(newStage) : [];
  const state: RequestState = {
    id,
    requester,
    status: 'pending',
    stages,
    current: 0,
    createdAt: at,
    expiresAt: at + (input.ttlS ?? DEFAULT_REQUEST_TTL_S),
    durationS: input.durationS,
    startsAt: input.startsAt,
    breakGlass: decision.outcome === 'break_glass',
    decidedAt: null,
    grant: null,
  };
  const submitted: RequestCreated = {
    type: 'request.created',
    requestId: id,
    at,
    requester,
    outcome: decision.outcome,
    rule: decision.rule,
    policyHash: decision.policy_hash,
  };
  if (decision.outcome === 'deny') {
    state.status = 'denied';
    state.decidedAt = at;
    const denied: RequestDenied = { type: 'request.denied', requestId: id, at, by: null, stage: null, reason: decision.message };
    return { state, effects: [submitted, denied] };
  }
  if (stages.length === 0) return { state, effects: [submitted, approveNow(state, at, null)] };
  const first = stages[0]!;
  first.status = 'active';
  first.activatedAt = at;
  return { state, effects: [submitted] };
}

function newStage(def: ApprovalStageDef): StageState {
  return {
    approvers: [...def.approvers],
    count: def.count,
    timeoutS: def.timeoutS,
    escalateTo: [...def.escalateTo],
    status: 'waiting',
    activatedAt: null,
    escalated: false,
    approvals: [],
  };
}

/**
 * Applies what time alone does up to `at`: the current stage escalates once
 * its timeout has passed (when it names `escalate_to`), and a request still
 * pending at `expiresAt` expires. Events carry the instant they happened,
 * not `at`. Never refuses; a request that is not pending is left as is.
 */
export function tick(state: RequestState, at: number): { state: RequestState; effects: (RequestEscalated | RequestExpired)[] } {
  if (state.status !== 'pending') return { state, effects: [] };
  const effects: (RequestEscalated | RequestExpired)[] = [];
  let next = state;
  const stage = state.stages[state.current];
  if (stage && !stage.escalated && stage.timeoutS !== null && stage.activatedAt !== null && stage.escalateTo.length > 0) {
    const due = stage.activatedAt + stage.timeoutS;
    if (at >= due && due < state.expiresAt) {
      next = cloneState(state);
      next.stages[state.current]!.escalated = true;
      effects.push({ type: 'request.escalated', requestId: state.id, at: due, stage: state.current, to: [...stage.escalateTo] });
    }
  }
  if (at >= state.expiresAt) {
    if (next === state) next = cloneState(state);
    next.status = 'expired';
    next.decidedAt = state.expiresAt;
    effects.push({ type: 'request.expired', requestId: state.id, at: state.expiresAt, stage: state.current });
  }
  return { state: next, effects };
}

export interface ApproveCommand {
  by: string;
  /** Groups the approver is a member of, from the policy in force. */
  byGroups: readonly string[];
  at: number;
  comment?: string | null;
}

/**
 * An approval of the current stage. Refused when the request is not pending
 * (409), when the requester approves their own request, even as a member of
 * the approver groups (403), when `by` is in none of the stage's approver
 * groups (403; escalation groups count once the stage escalated), and when
 * `by` already approved any stage of this request (409): each approval in a
 * chain comes from a different person.
 */
export function approve(
  state: RequestState,
  cmd: ApproveCommand,
): Transition<RequestEscalated | RequestExpired | RequestApprovalRecorded | RequestStageApproved | RequestApproved> {
  const ticked = tick(state, cmd.at);
  const s = ticked.state;
  const refusal = checkDecider(s, cmd.by, cmd.byGroups, 'approve');
  if (refusal) return refusal;
  if (s.stages.some((st) => st.approvals.some((a) => a.by === cmd.by))) {
    return refuse('already_approved', `${cmd.by} has already approved this request; each approval must come from someone else`);
  }

  const next = cloneState(s);
  const index = next.current;
  const stage = next.stages[index]!;
  const comment = cmd.comment?.trim() || null;
  stage.approvals.push({ by: cmd.by, at: cmd.at, comment });
  const effects: (RequestEscalated | RequestExpired | RequestApprovalRecorded | RequestStageApproved | RequestApproved)[] = [
    ...ticked.effects,
  ];
  if (stage.approvals.length < stage.count) {
    effects.push({
      type: 'request.approval_recorded',
      requestId: next.id,
      at: cmd.at,
      by: cmd.by,
      stage: index,
      comment,
      remaining: stage.count - stage.approvals.length,
    });
    return { ok: true, state: next, effects };
  }

  stage.status = 'approved';
  effects.push({ type: 'request.stage_approved', requestId: next.id, at: cmd.at, by: cmd.by, stage: index, comment });
  next.current = index + 1;
  const following = next.stages[next.current];
  if (following) {
    following.status = 'active';
    following.activatedAt = cmd.at;
    return { ok: true, state: next, effects };
  }
  effects.push(approveNow(next, cmd.at, cmd.by));
  return { ok: true, state: next, effects };
}

export interface DenyCommand {
  by: string;
  byGroups: readonly string[];
  at: number;
  reason: string;
}

/** A denial by an approver of the current stage: one denial denies the whole request. */
export function deny(state: RequestState, cmd: DenyCommand): Transition<RequestEscalated | RequestExpired | RequestDenied> {
  const ticked = tick(state, cmd.at);
  const s = ticked.state;
  const refusal = checkDecider(s, cmd.by, cmd.byGroups, 'deny');
  if (refusal) return refusal;
  const reason = cmd.reason.trim();
  if (reason === '') return refuse('reason_required', 'a denial needs a reason the requester can read');
  const next = cloneState(s);
  next.stages[next.current]!.status = 'denied';
  next.status = 'denied';
  next.decidedAt = cmd.at;
  return {
    ok: true,
    state: next,
    effects: [...ticked.effects, { type: 'request.denied', requestId: next.id, at: cmd.at, by: cmd.by, stage: next.current, reason }],
  };
}

/** The requester withdraws a pending request. */
export function cancel(state: RequestState, cmd: { by: string; at: number }): Transition<RequestEscalated | RequestExpired | RequestCancelled> {
  const ticked = tick(state, cmd.at);
  const s = ticked.state;
  if (s.status !== 'pending') return notPending(s);
  if (cmd.by !== s.requester) return refuse('not_requester', 'only the requester can cancel a request');
  const next = cloneState(s);
  next.status = 'cancelled';
  next.decidedAt = cmd.at;
  return { ok: true, state: next, effects: [...ticked.effects, { type: 'request.cancelled', requestId: next.id, at: cmd.at, by: cmd.by }] };
}

/** Groups whose members may decide the current stage at this point: its approvers, plus its escalation groups once escalated. */
export function currentDeciders(state: RequestState): string[] {
  const stage = state.stages[state.current];
  if (state.status !== 'pending' || !stage) return [];
  return stage.escalated ? [...new Set([...stage.approvers, ...stage.escalateTo])] : [...stage.approvers];
}

function checkDecider(
  s: RequestState,
  by: string,
  byGroups: readonly string[],
  verb: 'approve' | 'deny',
): { ok: false; code: TransitionErrorCode; status: number; message: string } | null {
  if (s.status !== 'pending') return notPending(s);
  if (by === s.requester) {
    return refuse('self_approval', verb === 'approve' ? 'nobody approves their own request' : 'nobody decides on their own request; cancel it instead');
  }
  const allowed = currentDeciders(s);
  if (!byGroups.some((g) => allowed.includes(g))) {
    return refuse('not_an_approver', `stage ${s.current + 1} is decided by members of ${allowed.join(', ')}`);
  }
  return null;
}

function approveNow(state: RequestState, at: number, by: string | null): RequestApproved {
  state.status = 'approved';
  state.decidedAt = at;
  state.grant = grantWindow(state.startsAt, at, state.durationS);
  return { type: 'request.approved', requestId: state.id, at, by, breakGlass: state.breakGlass, grant: { ...state.grant } };
}

function notPending(s: RequestState): { ok: false; code: TransitionErrorCode; status: number; message: string } {
  return refuse('not_pending', `the request is ${s.status}, not pending`);
}

function refuse(code: TransitionErrorCode, message: string): { ok: false; code: TransitionErrorCode; status: number; message: string } {
  return { ok: false, code, status: TRANSITION_ERROR_STATUS[code], message };
}

function cloneState(s: RequestState): RequestState {
  return {
    ...s,
    stages: s.stages.map((st) => ({ ...st, approvers: [...st.approvers], escalateTo: [...st.escalateTo], approvals: [...st.approvals] })),
    grant: s.grant ? { ...s.grant } : null,
  };
}
