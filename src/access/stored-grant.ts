import type { Kysely, Selectable } from 'kysely';
import type { Database, GrantTable } from '../store/schema.js';
import { PreparedQuery } from '../store/prepared.js';
import type { ReviewableGrant, GrantReview } from './grant-commands.js';

export type GrantRow = Selectable<GrantTable>;

/** The lifecycle view of a stored grant, as the pure grant functions take it. */
export function grantRecordOf(row: GrantRow): ReviewableGrant & { scopes: string[]; resource: string } {
  return {
    id: row.id,
    requestId: row.request_id,
    principal: row.principal,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    revokedAt: row.revoked_at,
    releasedAt: row.released_at,
    review: row.review as GrantReview,
    reviewedBy: row.reviewed_by,
    reviewedAt: row.reviewed_at,
    scopes: row.scopes.split(' '),
    resource: row.resource,
  };
}

const selectById = new WeakMap<object, PreparedQuery<GrantRow>>();

/** The stored row of grant `id`, or undefined; the lookup is compiled once per database. */
export async function findGrantRow(db: Kysely<Database>, id: string): Promise<GrantRow | undefined> {
  let q = selectById.get(db);
  if (q === undefined) {
    q = new PreparedQuery(db.selectFrom('grants').selectAll().where('id', '=', '').compile());
    selectById.set(db, q);
  }
  return (await q.run(db, [id])).rows[0];
}
