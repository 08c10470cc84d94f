/**
 * Reads feed entries from the audit chain: events of the feed's types after
 * a cursor, in chain order (the (type, seq) index serves the query), each
 * completed with its `until` from the tokens and grants it affects.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { RevocationEntry } from './entry.js';
import { FEED_EVENT_TYPES } from './entry.js';
import { pendingEntryOf, untilOf, type PendingEntry, type UntilFacts } from './entry-of-event.js';

/** The seq of the chain's last event (0 for an empty chain). */
export async function auditHeadSeq(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

export interface ReadEntriesResult {
  entries: RevocationEntry[];
  /** The seq of the last event read (relevant or not), or `after` when none. */
  last: number;
  /** Fewer events than asked for: the chain holds nothing more after `last` right now. */
  done: boolean;
}

/**
 * Up to `limit` feed events after `after`. Entries whose `until` lies before
 * `forgetBefore` are left out: every token they affect has expired.
 */
export async function readEntries(
  db: Kysely<Database>,
  opts: { after: number; limit: number; tokenLifetimeS: number; forgetBefore: number },
): Promise<ReadEntriesResult> {
  const rows = await db
    .selectFrom('audit_events')
    .select(['seq', 'at', 'type', 'subject', 'data'])
    .where('type', 'in', [...FEED_EVENT_TYPES])
    .where('seq', '>', opts.after)
    .orderBy('seq')
    .limit(opts.limit)
    .execute();
  const entries: RevocationEntry[] = [];
  let last = opts.after;
  for (const row of rows) {
    last = Number(row.seq);
    const pending = pendingEntryOf({ seq: last, at: row.at, type: row.type, subject: row.subject, data: parseData(row.data) });
    if (!pending) continue;
    const entry = { ...pending, until: untilOf(pending, await factsFor(db, pending), opts.tokenLifetimeS) };
    if (entry.until >= opts.forgetBefore) entries.push(entry);
  }
  return { entries, last, done: rows.length < opts.limit };
}

function parseData(data: unknown): Record<string, unknown> {
  if (typeof data !== 'string') return (data ?? {}) as Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(data);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function factsFor(db: Kysely<Database>, entry: PendingEntry): Promise<UntilFacts> {
  if (entry.until !== null) return {};
  if (entry.kind === 'token' && entry.jti) {
    const row = await db.selectFrom('tokens').select('exp').where('jti', '=', entry.jti).executeTakeFirst();
    return { tokenExp: row ? Number(row.exp) : null };
  }
  if (entry.kind === 'grant' && entry.grant) {
    const grant = await db.selectFrom('grants').select('ends_at').where('id', '=', entry.grant).executeTakeFirst();
    const tokens = await db
      .selectFrom('tokens')
      .select((eb) => eb.fn.max('exp').as('max_exp'))
      .where('grant_id', '=', entry.grant)
      .executeTakeFirst();
    const maxExp = tokens?.max_exp;
    return {
      grantEndsAt: grant ? Number(grant.ends_at) : null,
      grantTokensMaxExp: maxExp === null || maxExp === undefined ? null : Number(maxExp),
    };
  }
  return {};
}
