import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { StoreDialect } from '../store/open.js';
import { canonicalJson, eventHashOfCanonicalData, type HashedEventFields } from './event-hash.js';
import { newEventId } from './event-id.js';

export { eventHash } from './event-hash.js';

/** Rows per INSERT (9 parameters each, well under either database's limit). */
const INSERT_CHUNK = 100;

/** Column order of the INSERT; every row's parameters follow it. */
const COLUMNS = ['seq', 'id', 'at', 'type', 'actor', 'subject', 'data', 'prev_hash', 'hash'] as const;

/**
 * INSERTs of n rows, built and compiled once per dialect and n: on the
 * append path building the query for every batch cost more than running it.
 */
const inserts = new Map<string, CompiledQuery>();

function insertOf(db: Kysely<Database>, dialect: StoreDialect, n: number): CompiledQuery {
  const key = `${dialect}:${n}`;
  let q = inserts.get(key);
  if (q === undefined) {
    const placeholder = Object.fromEntries(COLUMNS.map((c) => [c, null])) as unknown as Database['audit_events'];
    q = db.insertInto('audit_events').values(Array.from({ length: n }, () => placeholder)).compile();
    inserts.set(key, q);
  }
  return q;
}

/** The chain head's read (locking it on PostgreSQL) and its move, compiled once per dialect: every append runs both. */
const heads = new Map<StoreDialect, { read: CompiledQuery<{ seq: number | string; hash: string }>; move: CompiledQuery }>();

function headOf(db: Kysely<Database>, dialect: StoreDialect) {
  let h = heads.get(dialect);
  if (h === undefined) {
    let read = db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
    if (dialect === 'postgres') read = read.forUpdate();
    // Placeholder values: the parameters are given at each run, in this order (seq, hash, id).
    const move = db.updateTable('audit_head').set({ seq: 0, hash: '' }).where('id', '=', 1);
    h = { read: read.compile(), move: move.compile() };
    heads.set(dialect, h);
  }
  return h;
}

/** An event as its writer describes it; seq, id and the hashes are the chain's. */
export interface NewAuditEvent {
  type: string;
  /** Who did it (a principal, or null for the policy/system). */
  actor: string | null;
  /** Whose access it concerns (a principal), for filtering. */
  subject: string | null;
  /** No secrets, no whole tokens. */
  data: Record<string, unknown>;
  /** Epoch ms; defaults to the caller's clock via `atMs` of appendAuditEvents. */
  atMs?: number;
}

/** A link of the chain as stored: the hashed fields and their hash. */
export interface AuditEventRecord extends HashedEventFields {
  hash: string;
}

/**
 * Appends events to the hash chain inside the caller's transaction (`trx`
 * must be one), so an event exists exactly when the change it records does.
 * The chain head row is locked for the rest of the transaction: appends are
 * serialized and the chain has one order.
 *
 * `data` is stored as its RFC 8785 canonical text, the very bytes the hash
 * covers, so verifying needs no re-serialization.
 */
export async function appendAuditEvents(
  trx: Kysely<Database>,
  dialect: StoreDialect,
  events: readonly NewAuditEvent[],
  nowMs: number,
): Promise<AuditEventRecord[]> {
  if (events.length === 0) return [];
  const headQueries = headOf(trx, dialect);
  const head = (await trx.executeQuery(headQueries.read)).rows[0];
  if (head === undefined) throw new Error('the audit chain has no head row');
  let seq = Number(head.seq);
  let prev = head.hash;
  const records: AuditEventRecord[] = [];
  const params: unknown[] = [];
  for (const e of events) {
    const dataText = canonicalJson(e.data);
    const base = {
      seq: ++seq,
      id: newEventId(),
      at: new Date(e.atMs ?? nowMs).toISOString(),
      type: e.type,
      actor: e.actor,
      subject: e.subject,
      prev_hash: prev,
    };
    const hash = eventHashOfCanonicalData(base, dataText);
    records.push({ ...base, data: e.data, hash });
    params.push(base.seq, base.id, base.at, base.type, base.actor, base.subject, dataText, prev, hash);
    prev = hash;
  }
  const width = COLUMNS.length;
  for (let i = 0; i < records.length; i += INSERT_CHUNK) {
    const n = Math.min(INSERT_CHUNK, records.length - i);
    const q = insertOf(trx, dialect, n);
    await trx.executeQuery({ ...q, parameters: params.slice(i * width, (i + n) * width) });
  }
  await trx.executeQuery({ ...headQueries.move, parameters: [seq, prev, 1] });
  return records;
}
