import type { Kysely } from 'kysely';
import type { AuditEventRecord } from '../audit/append.js';
import type { Database } from '../store/schema.js';
import type { Policy } from '../policy/types.js';
import { parseRequestRow } from '../access/stored-request.js';
import type { EventFacts, RequestFacts } from './event-facts.js';
import { highRiskScopes, stringField, stringList } from './detectors/event-fields.js';

/**
 * The store lookups the detectors and notices need for one event, and only
 * those: the grants history when a high-risk scope is asked for, the
 * request when a notice or a break-glass alert has to describe it.
 */
export async function lookupFacts(db: Kysely<Database>, event: AuditEventRecord, policy: Policy): Promise<EventFacts> {
  const facts: EventFacts = {};
  const requestId = stringField(event.data, 'requestId');
  switch (event.type) {
    case 'request.created': {
      const principal = event.subject;
      if (principal && highRiskScopes(policy, stringList(event.data.scopes)).length > 0) {
        facts.heldBefore = await scopesHeldBefore(db, principal, requestId);
      }
      if (event.data.outcome === 'stages' && requestId) facts.request = await requestFacts(db, requestId);
      break;
    }
    case 'request.approved':
      if (event.data.breakGlass === true && requestId) facts.request = await requestFacts(db, requestId);
      break;
    case 'request.escalated':
    case 'request.stage_approved':
      if (requestId) facts.request = await requestFacts(db, requestId);
      break;
  }
  return facts;
}

/** Every scope the principal was ever granted, leaving out the grant of `exceptRequest` (created with it). */
async function scopesHeldBefore(db: Kysely<Database>, principal: string, exceptRequest: string | null): Promise<Set<string>> {
  let q = db.selectFrom('grants').select('scopes').where('principal', '=', principal);
  if (exceptRequest) q = q.where('request_id', '!=', exceptRequest);
  const rows = await q.execute();
  return new Set(rows.flatMap((r) => r.scopes.split(' ')));
}

async function requestFacts(db: Kysely<Database>, id: string): Promise<RequestFacts | undefined> {
  const row = await db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const stored = parseRequestRow(row);
  return {
    id: row.id,
    requester: row.requester,
    scopes: stored.scopes,
    resource: row.resource,
    durationS: Number(row.duration_s),
    reason: row.reason,
    ticket: row.ticket,
    state: stored.state,
  };
}
