import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { StoreDialect } from '../store/open.js';

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

export interface AuditEventRecord {
  seq: number;
  id: string;
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** SHA-256 hex over the RFC 8785 canonical JSON of every field but `hash`. */
export function eventHash(e: Omit<AuditEventRecord, 'hash'>): string {
  const text = canonicalize({
    seq: e.seq,
    id: e.id,
    at: e.at,
    type: e.type,
    actor: e.actor,
    subject: e.subject,
    data: e.data,
    prev_hash: e.prev_hash,
  });
  return createHash('sha256').update(text!, 'utf8').digest('hex');
}

/**
 * Appends events to the hash chain inside the caller's transaction, so an
 * event exists exactly when the change it records does. The chain head row
 * is locked for the rest of the transaction: appends are serialized and the
 * chain has one order.
 */
export async function appendAuditEvents(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  events: readonly NewAuditEvent[],
  nowMs: number,
): Promise<AuditEventRecord[]> {
  if (events.length === 0) return [];
  let q = trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
  if (dialect === 'postgres') q = q.forUpdate();
  const head = await q.executeTakeFirstOrThrow();
  let seq = head.seq;
  let prev = head.hash;
  const records: AuditEventRecord[] = [];
  for (const e of events) {
    const base = {
      seq: ++seq,
      id: randomUUID(),
      at: new Date(e.atMs ?? nowMs).toISOString(),
      type: e.type,
      actor: e.actor,
      subject: e.subject,
      data: e.data,
      prev_hash: prev,
    };
    const rec = { ...base, hash: eventHash(base) };
    records.push(rec);
    prev = rec.hash;
  }
  await trx
    .insertInto('audit_events')
    .values(records.map((r) => ({ ...r, data: JSON.stringify(r.data) })))
    .execute();
  await trx.updateTable('audit_head').set({ seq, hash: prev }).where('id', '=', 1).execute();
  return records;
}
