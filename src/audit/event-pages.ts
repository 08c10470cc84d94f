/**
 * Reading the chain in seq order, a page at a time. On an SQLite file the
 * pages come from a read-only connection of its own in raw (array) mode:
 * better-sqlite3 builds a row array about twice as fast as a row object,
 * and reading rows is most of what verifying a long chain costs. Elsewhere
 * (PostgreSQL, in-memory SQLite) they come through the store's Kysely.
 */
import SQLite from 'better-sqlite3';
import { parseDbUrl } from '../store/db-url.js';
import type { Store } from '../store/open.js';
import type { ChainEvent } from './chain-verifier.js';

const COLUMNS = 'seq, id, at, type, actor, subject, data, prev_hash, hash';

type RawRow = [number, string, string, string, string | null, string | null, string, string, string];

/** Pages of events with a seq above `after`, ascending, until none are left. */
export async function* eventPages(store: Store, after: number, pageSize: number): AsyncGenerator<ChainEvent[]> {
  const target = store.dialect === 'sqlite' ? parseDbUrl(store.url) : null;
  if (target?.dialect === 'sqlite' && target.path !== ':memory:') {
    yield* sqlitePages(target.path, after, pageSize);
    return;
  }
  let cursor = after;
  for (;;) {
    const rows = await store.db
      .selectFrom('audit_events')
      .select(['seq', 'id', 'at', 'type', 'actor', 'subject', 'data', 'prev_hash', 'hash'])
      .where('seq', '>', cursor)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    if (rows.length < pageSize) return;
    cursor = Number(rows[rows.length - 1]!.seq);
  }
}

async function* sqlitePages(path: string, after: number, pageSize: number): AsyncGenerator<ChainEvent[]> {
  const db = new SQLite(path, { readonly: true, fileMustExist: true });
  try {
    const stmt = db.prepare(`select ${COLUMNS} from audit_events where seq > ? order by seq limit ?`).raw(true);
    let cursor = after;
    for (;;) {
      const rows = stmt.all(cursor, pageSize) as RawRow[];
      if (rows.length === 0) return;
      const page: ChainEvent[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        page[i] = { seq: r[0], id: r[1], at: r[2], type: r[3], actor: r[4], subject: r[5], data: r[6], prev_hash: r[7], hash: r[8] };
      }
      yield page;
      if (rows.length < pageSize) return;
      cursor = rows[rows.length - 1]![0];
      // Let the event loop breathe between pages (a server verifying for GET /audit/verify).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    db.close();
  }
}
