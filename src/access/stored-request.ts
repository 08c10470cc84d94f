import type { Selectable, Insertable } from 'kysely';
import type { AccessRequestTable } from '../store/schema.js';
import type { RequestState } from './request-machine.js';
import type { Decision } from '../policy/decide.js';
import type { NormalizedRequest } from './validate-request.js';

export type RequestRow = Selectable<AccessRequestTable>;

/** A stored access request with its JSON columns parsed. */
export interface StoredRequest {
  row: RequestRow;
  state: RequestState;
  decision: Pick<Decision, 'rule' | 'outcome' | 'message' | 'policy_hash'> & { condition_error?: string };
  scopes: string[];
  context: Record<string, unknown>;
}

export function parseRequestRow(row: RequestRow): StoredRequest {
  return {
    row,
    state: JSON.parse(row.state) as RequestState,
    decision: JSON.parse(row.decision) as StoredRequest['decision'],
    scopes: row.scopes.split(' '),
    context: JSON.parse(row.context) as Record<string, unknown>,
  };
}

export function newRequestRow(
  req: NormalizedRequest,
  state: RequestState,
  decision: StoredRequest['decision'],
  grantId: string | null,
): Insertable<AccessRequestTable> {
  return {
    id: state.id,
    requester: req.principal,
    status: state.status,
    scopes: req.scopes.join(' '),
    bundle: req.bundle,
    resource: req.resource,
    duration_s: req.durationS,
    reason: req.reason,
    ticket: req.ticket,
    starts_at: req.startsAt,
    context: JSON.stringify(req.context),
    decision: JSON.stringify(decision),
    state: JSON.stringify(state),
    grant_id: grantId,
    created_at: state.createdAt,
    expires_at: state.expiresAt,
    updated_at: state.createdAt,
    version: 1,
  };
}
