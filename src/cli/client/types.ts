/**
 * The REST API's JSON shapes as the CLI reads them (DESIGN, "REST API").
 * Only what the CLI shows is typed; everything else passes through `--json`
 * untouched. Members the server may add later are tolerated, and members a
 * server leaves out are treated as absent, never as a crash.
 */

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
export type GrantStatus = 'scheduled' | 'active' | 'expired' | 'revoked' | 'released';

export const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
export const GRANT_STATUSES: readonly GrantStatus[] = ['scheduled', 'active', 'expired', 'revoked', 'released'];

export interface ApprovalView {
  by: string;
  at: string;
  comment: string | null;
}

export interface StageView {
  approvers: string[];
  count: number;
  /** waiting | active | approved | denied */
  status: string;
  escalate_to?: string[];
  escalated?: boolean;
  approvals: ApprovalView[];
}

export interface DecisionView {
  rule: string | null;
  outcome: string;
  message: string;
  policy_hash: string;
}

export interface RequestGrantView {
  id: string;
  starts_at: string;
  ends_at: string;
  status: GrantStatus;
}

export interface AccessRequestView {
  id: string;
  requester: string;
  scopes: string[];
  bundle?: string | null;
  resource: string | null;
  duration_s: number;
  reason: string;
  ticket: string | null;
  starts_at?: string | null;
  status: RequestStatus;
  decision: DecisionView | null;
  stages: StageView[];
  grant: RequestGrantView | null;
  created_at: string;
  expires_at?: string | null;
  decided_at?: string | null;
}

export interface GrantView {
  id: string;
  request_id: string | null;
  principal: string;
  scopes: string[];
  resource: string | null;
  starts_at: string;
  ends_at: string;
  status: GrantStatus;
  break_glass?: boolean;
  review?: string | null;
  revoked_by?: string | null;
  revoke_reason?: string | null;
}

export interface MeView {
  principal: string;
  groups: string[];
  baseline: string[];
  eligible: { scopes: string[]; bundles: string[] };
  grants: GrantView[];
}

export interface ListView<T> {
  items: T[];
}

/** RFC 9457 problem details; extra members say how to recover. */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  [member: string]: unknown;
}

/** A successful answer of the token endpoint (RFC 6749 §5.1, RFC 8693 §2.2.1). */
export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  issued_token_type?: string;
  /** Browser and device logins, and every refresh (rotated). */
  refresh_token?: string;
}
