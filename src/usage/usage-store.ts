/**
 * The `usage` table: counts and first/last use per (principal, scope,
 * resource), added to by gateway reports, read by the list API and the
 * unused-scopes report.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { UsageEntry } from './report.js';

/** One row as the API shows it. */
export interface UsageView {
  principal: string;
  scope: string;
  resource: string;
  count: number;
  first_used_at: string;
  last_used_at: string;
}

export interface UsageFilter {
  principal?: string;
  scope?: string;
  resource?: string;
  /** Only rows last used at or after this instant (epoch seconds). */
  sinceS?: number;
  limit: number;
}

/** Entries of one report with the same key folded into one, so one statement never touches a row twice. Pure. */
export function mergeEntries(entries: readonly UsageEntry[]): UsageEntry[] {
  const byKey = new Map<string, UsageEntry>();
  for (const e of entries) {
    const key = `${e.principal}\n${e.scope}\n${e.resource}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...e });
    else {
      seen.count += e.count;
      seen.first_used = Math.min(seen.first_used, e.first_used);
      seen.last_used = Math.max(seen.last_used, e.last_used);
    }
  }
  return [...byKey.values()];
}

/**
 * Adds a report's entries in one transaction: a new key is inserted, a known
 * one has its count added to and its first/last use widened. Either every
 * entry is recorded or none is. A report sent twice counts twice; first and
 * last use are unaffected, since they only ever widen.
 */
export async function recordUsage(db: Kysely<Database>, entries: readonly UsageEntry[]): Promise<number> {
  const rows = mergeEntries(entries);
  if (rows.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('usage')
      .values(rows.map((e) => ({ principal: e.principal, scope: e.scope, resource: e.resource, uses: e.count, first_used: e.first_used, last_used: e.last_used })))
      .onConflict((oc) =>
        oc.columns(['principal', 'scope', 'resource']).doUpdateSet({
          uses: sql`usage.uses + excluded.uses`,
          // CASE rather than least()/min(): the one spelling both databases share.
          first_used: sql`case when excluded.first_used < usage.first_used then excluded.first_used else usage.first_used end`,
          last_used: sql`case when excluded.last_used > usage.last_used then excluded.last_used else usage.last_used end`,
        }),
      )
      .execute();
  });
  return rows.length;
}

/** Rows matching the filter, most recently used first. */
export async function listUsage(db: Kysely<Database>, f: UsageFilter): Promise<UsageView[]> {
  let q = db.selectFrom('usage').selectAll();
  if (f.principal !== undefined) q = q.where('principal', '=', f.principal);
  if (f.scope !== undefined) q = q.where('scope', '=', f.scope);
  if (f.resource !== undefined) q = q.where('resource', '=', f.resource);
  if (f.sinceS !== undefined) q = q.where('last_used', '>=', f.sinceS);
  const rows = await q.orderBy('last_used', 'desc').orderBy('principal').orderBy('scope').orderBy('resource').limit(f.limit).execute();
  return rows.map((r) => ({
    principal: r.principal,
    scope: r.scope,
    resource: r.resource,
    count: Number(r.uses),
    first_used_at: iso(Number(r.first_used)),
    last_used_at: iso(Number(r.last_used)),
  }));
}

/** The last use of each scope by each principal, over every resource: `principal\nscope` → epoch seconds. */
export async function lastUses(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('usage')
    .select(['principal', 'scope', (eb) => eb.fn.max('last_used').as('last_used')])
    .groupBy(['principal', 'scope'])
    .execute();
  const out = new Map<string, number>();
  for (const r of rows) out.set(`${r.principal}\n${r.scope}`, Number(r.last_used));
  return out;
}

function iso(s: number): string {
  return new Date(s * 1000).toISOString();
}
