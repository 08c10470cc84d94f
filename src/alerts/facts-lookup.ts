import { sql, type Kysely } from 'kysely';
import type { AuditEventRecord } from '../audit/append.js';
import type { Database } from '../store/schema.js';
import type { Policy } from '../policy/types.js';
import { findRequestRow, parseRequestRow } from '../access/stored-request.js';
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
      const risky = highRiskScopes(policy, stringList(event.data.scopes));
      if (principal && risky.length > 0) {
        facts.heldBefore = await scopesHeldBefore(db, principal, requestId, risky.map((r) => r.scope));
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

/**
 * Which of `scopes` the principal was ever granted, leaving out the grant of
 * `exceptRequest` (created with it). One indexed probe per scope that stops
 * at the first grant carrying it: a principal's grants only grow, and
 * reading them all for every request made filing a request cost more the
 * longer the principal had used jitgate.
 */
async function scopesHeldBefore(
  db: Kysely<Database>,
  principal: string,
  exceptRequest: string | null,
  scopes: readonly string[],
): Promise<Set<string>> {
  const held = new Set<string>();
  const known = heldOnce(db);
  for (const scope of scopes) {
    if (held.has(scope)) continue;
    const key = `${principal} ${scope}`;
    if (known.has(key)) {
      held.add(scope);
      continue;
    }
    let q = db
      .selectFrom('grants')
      .select('scopes')
      .where('principal', '=', principal)
      .where(sql<boolean>`(' ' || ${sql.ref('scopes')} || ' ') like ${`% ${escapeLike(scope)} %`} escape '!'`);
    if (exceptRequest) q = q.where('request_id', '!=', exceptRequest);
    const hit = await q.limit(1).executeTakeFirst();
    if (hit === undefined) continue;
    // SQLite's LIKE ignores ASCII case: a hit is only a candidate until its exact scopes are read.
    if (hit.scopes.split(' ').includes(scope) || (await heldExactly(db, principal, exceptRequest, scope))) {
      held.add(scope);
      remember(known, key);
    }
  }
  return held;
}

/**
 * `principal scope` pairs found held once, per database. Having held a scope
 * stays true (a later request can only leave out its own, newer grant), so
 * the next request of a principal for a scope it held asks the store
 * nothing. Bounded: when full it starts over, which only costs lookups.
 */
const heldPairs = new WeakMap<object, Set<string>>();
const MAX_HELD_PAIRS = 10_000;

function heldOnce(db: object): Set<string> {
  let known = heldPairs.get(db);
  if (known === undefined) {
    known = new Set();
    heldPairs.set(db, known);
  }
  return known;
}

function remember(known: Set<string>, key: string): void {
  if (known.size >= MAX_HELD_PAIRS) known.clear();
  known.add(key);
}

/** The full read, for the rare probe that matched a scope differing only in case. */
async function heldExactly(db: Kysely<Database>, principal: string, exceptRequest: string | null, scope: string): Promise<boolean> {
  let q = db.selectFrom('grants').select('scopes').where('principal', '=', principal);
  if (exceptRequest) q = q.where('request_id', '!=', exceptRequest);
  const rows = await q.execute();
  return rows.some((r) => r.scopes.split(' ').includes(scope));
}

/** A LIKE pattern's wildcards and its escape character, escaped with `!`. */
function escapeLike(s: string): string {
  return s.replace(/[!%_]/g, (c) => `!${c}`);
}

async function requestFacts(db: Kysely<Database>, id: string): Promise<RequestFacts | undefined> {
  const row = await findRequestRow(db, id);
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
