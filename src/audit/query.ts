/**
 * Reading the audit log a page at a time, in chain order, with filters.
 * Pagination is by seq (`after`), so a page is a range scan on the primary
 * key and appends during paging never shift what the next page returns.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Store, StoreDialect } from '../store/open.js';
import type { Database } from '../store/schema.js';
import type { AuditEventRecord } from './append.js';

export interface AuditQuery {
  /** Events with a seq above this (0 for the start). */
  after: number;
  /** Exact types, or prefixes written `grant.*`; any of them matches. Empty: every type. */
  types: readonly string[];
  /** Events this principal did (`actor`) or that concern it (`subject`). */
  principal?: string | null;
  /** Events about this scope: tokens that carry it, and requests and grants for it. */
  scope?: string | null;
  limit: number;
}

export interface AuditPage {
  items: AuditEventRecord[];
  /** The `after` for the next page, or null when this page reached the end. */
  next: number | null;
}

type Eb = ExpressionBuilder<Database, 'audit_events'>;

function typeFilter(eb: Eb, types: readonly string[]): Expression<SqlBool> {
  return eb.or(
    types.map((t) =>
      t.endsWith('*')
        ? // substr, not LIKE: type names contain `_`, a LIKE wildcard.
          eb(sql<string>`substr(${eb.ref('type')}, 1, ${t.length - 1})`, '=', t.slice(0, -1))
        : eb('type', '=', t),
    ),
  );
}

/**
 * Events that name the scope: `data.scopes` holds it (tokens), or
 * `data.requestId` is a request for it (request.* and grant.* events).
 */
function scopeFilter(dialect: StoreDialect, scope: string): Expression<SqlBool> {
  if (dialect === 'postgres') {
    return sql<SqlBool>`(
      coalesce((audit_events.data::jsonb -> 'scopes') ? ${scope}, false)
      or (audit_events.data::jsonb ->> 'requestId') in (
        select id from access_requests where ${scope} = any(string_to_array(scopes, ' '))))`;
  }
  return sql<SqlBool>`(
    exists (select 1 from json_each(audit_events.data, '$.scopes') where value = ${scope})
    or json_extract(audit_events.data, '$.requestId') in (
      select id from access_requests where instr(' ' || scopes || ' ', ' ' || ${scope} || ' ') > 0))`;
}

/** One page of events matching `q`, oldest first. */
export async function queryAudit(store: Store, q: AuditQuery): Promise<AuditPage> {
  let query = store.db
    .selectFrom('audit_events')
    .select(['seq', 'id', 'at', 'type', 'actor', 'subject', 'data', 'prev_hash', 'hash'])
    .where('seq', '>', q.after)
    .orderBy('seq')
    .limit(q.limit + 1);
  if (q.types.length > 0) query = query.where((eb) => typeFilter(eb, q.types));
  if (q.principal) {
    const p = q.principal;
    query = query.where((eb) => eb.or([eb('subject', '=', p), eb('actor', '=', p)]));
  }
  if (q.scope) query = query.where(scopeFilter(store.dialect, q.scope));
  const rows = await query.execute();
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const items = page.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    at: r.at,
    type: r.type,
    actor: r.actor,
    subject: r.subject,
    data: JSON.parse(r.data) as Record<string, unknown>,
    prev_hash: r.prev_hash,
    hash: r.hash,
  }));
  return { items, next: more ? items[items.length - 1]!.seq : null };
}
