import type { Selectable, Insertable, Kysely } from 'kysely';
import type { AccessRequestTable, Database } from '../store/schema.js';
import { PreparedQuery } from '../store/prepared.js';
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

const selectById = new WeakMap<object, PreparedQuery<RequestRow>>();

/** The stored row of request `id`, or undefined; the lookup is compiled once per database (it runs several times per approval). */
export async function findRequestRow(db: Kysely<Database>, id: string): Promise<RequestRow | undefined> {
  let q = selectById.get(db);
  if (q === undefined) {
    q = new PreparedQuery(db.selectFrom('access_requests').selectAll().where('id', '=', '').compile());
    selectById.set(db, q);
  }
  return (await q.run(db, [id])).rows[0];
}
