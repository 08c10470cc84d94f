import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, GrantTable } from '../store/schema.js';
import type { RequestState } from './request-machine.js';
import type { GrantRow } from './stored-grant.js';
import { newId } from './ids.js';
import { PreparedQuery } from '../store/prepared.js';
import type { Policy } from '../policy/types.js';

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

/** Grants of a principal that have not ended by `nowS` (live or scheduled), newest first; at most `limit`. */
export function liveGrantsOf(
  db: Kysely<Database> | Transaction<Database>,
  principal: string,
  nowS: number,
  limit = 1000,
): Promise<GrantRow[]> {
  return db
    .selectFrom('grants')
    .selectAll()
    .where('principal', '=', principal)
    .where('ends_at', '>', nowS)
    .where('revoked_at', 'is', null)
    .where('released_at', 'is', null)
    .orderBy('ends_at', 'desc')
    .limit(limit)
    .execute();
}

/**
 * The first live grant of `principal` that `covers` accepts, looking at the
 * latest-ending grants first and a page at a time: a principal normally has
 * one or two live grants, but one with many must not cost a full scan per
 * token exchange.
 *
 * The first look takes a few rows in `ends_at` order alone, which the
 * (principal, ends_at) index yields without sorting; only when none of them
 * covers does the walk page on (ends_at, id). Among grants ending in the same
 * second which one answers was never defined (ids are random), so the
 * shortcut changes no answer; sorting every grant that ends in one second by
 * id made each exchange cost more under a burst of approvals.
 */
export async function findLiveGrant(
  db: Kysely<Database>,
  principal: string,
  nowS: number,
  covers: (g: GrantRow) => boolean,
  pageSize = 20,
): Promise<GrantRow | undefined> {
  const live = () =>
    db
      .selectFrom('grants')
      .selectAll()
      .where('principal', '=', principal)
      .where('ends_at', '>', nowS)
      .where('revoked_at', 'is', null)
      .where('released_at', 'is', null);
  let firstLook = firstLooks.get(db);
  if (firstLook === undefined) {
    // Compiled once per database: every elevated exchange runs it.
    firstLook = new PreparedQuery(live().orderBy('ends_at', 'desc').limit(FIRST_LOOK).compile());
    firstLooks.set(db, firstLook);
  }
  const first = (await firstLook.run(db, [principal, nowS, FIRST_LOOK])).rows;
  const quick = first.find(covers);
  if (quick || first.length < FIRST_LOOK) return quick;
  let before: { endsAt: number; id: string } | null = null;
  for (;;) {
    let q = live();
    if (before) {
      const b = before;
      q = q.where((eb) => eb.or([eb('ends_at', '<', b.endsAt), eb.and([eb('ends_at', '=', b.endsAt), eb('id', '<', b.id)])]));
    }
    const page = await q.orderBy('ends_at', 'desc').orderBy('id', 'desc').limit(pageSize).execute();
    const hit = page.find(covers);
    if (hit || page.length < pageSize) return hit;
    const last = page[page.length - 1]!;
    before = { endsAt: last.ends_at, id: last.id };
  }
}

/** Rows of the first, unsorted look of findLiveGrant. */
const FIRST_LOOK = 4;
const firstLooks = new WeakMap<object, PreparedQuery<GrantRow>>();

/** Whether any rule's condition reads `history`; when none does, the history query is skipped. */
export function policyReadsHistory(policy: Policy): boolean {
  let v = readsHistory.get(policy);
  if (v === undefined) {
    v = policy.rules.some((r) => r.when !== null && /\bhistory\b/.test(r.when));
    readsHistory.set(policy, v);
  }
  return v;
}
const readsHistory = new WeakMap<Policy, boolean>();

/** How many grants the principal has had for each scope: the decision engine's `history`. */
export async function timesHeld(db: Kysely<Database>, principal: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('grants').select('scopes').where('principal', '=', principal).execute();
  const out = new Map<string, number>();
  for (const r of rows) for (const s of r.scopes.split(' ')) out.set(s, (out.get(s) ?? 0) + 1);
  return out;
}
