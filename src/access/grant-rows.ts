import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, GrantTable } from '../store/schema.js';
import type { RequestState } from './request-machine.js';
import type { GrantRow } from './stored-grant.js';
import { newId } from './ids.js';

/** The grant row an approval creates, with the window the state machine set. */
export function newGrantRow(
  state: RequestState,
  req: { principal: string; scopes: string[]; resource: string },
  createdAt: number,
): Insertable<GrantTable> {
  const window = state.grant!;
  return {
    id: newId('gr'),
    request_id: state.id,
    principal: req.principal,
    scopes: req.scopes.join(' '),
    resource: req.resource,
    starts_at: window.startsAt,
    ends_at: window.endsAt,
    revoked_at: null,
    revoked_by: null,
    revoke_reason: null,
    released_at: null,
    break_glass: state.breakGlass ? 1 : 0,
    review: state.breakGlass ? 'pending' : 'none',
    reviewed_by: null,
    reviewed_at: null,
    review_note: null,
    created_at: createdAt,
  };
}

/** Grants of a principal that have not ended by `nowS` (live or scheduled), newest first. */
export function liveGrantsOf(db: Kysely<Database> | Transaction<Database>, principal: string, nowS: number): Promise<GrantRow[]> {
  return db
    .selectFrom('grants')
    .selectAll()
    .where('principal', '=', principal)
    .where('ends_at', '>', nowS)
    .where('revoked_at', 'is', null)
    .where('released_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
}

/** How many grants the principal has had for each scope: the decision engine's `history`. */
export async function timesHeld(db: Kysely<Database>, principal: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('grants').select('scopes').where('principal', '=', principal).execute();
  const out = new Map<string, number>();
  for (const r of rows) for (const s of r.scopes.split(' ')) out.set(s, (out.get(s) ?? 0) + 1);
  return out;
}
