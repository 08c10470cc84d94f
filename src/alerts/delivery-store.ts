import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Database, WebhookDeliveryTable } from '../store/schema.js';
import type { WebhookDef } from '../policy/types.js';
import { webhookBody, type Deliverable } from './webhook-payload.js';
import { newAlertsId } from './ids.js';

export type DeliveryRow = Selectable<WebhookDeliveryTable>;
export type DeliveryStatus = 'pending' | 'delivered' | 'dead';
type Db = Kysely<Database> | Transaction<Database>;

/** One pending delivery per webhook, due at once; the body is fixed now so every attempt sends the same bytes. */
export function newDeliveryRows(
  d: Deliverable,
  webhooks: readonly WebhookDef[],
  nowS: number,
  maxAttempts: number,
): Insertable<WebhookDeliveryTable>[] {
  return webhooks.map((w) => ({
    id: newAlertsId('whd'),
    event: d.kind === 'alert' ? d.alert.type : d.notice.type,
    alert_id: d.kind === 'alert' ? d.alert.id : null,
    url: w.url,
    format: w.format,
    secret_env: w.secretEnv,
    body: webhookBody(d, w.format),
    status: 'pending',
    attempts: 0,
    max_attempts: maxAttempts,
    last_error: null,
    last_status: null,
    next_attempt_at: nowS,
    created_at: nowS,
    updated_at: nowS,
    delivered_at: null,
  }));
}

export async function insertDeliveries(db: Db, rows: readonly Insertable<WebhookDeliveryTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values([...rows]).execute();
}

/** Pending deliveries due by `nowS`, oldest due first. */
export function dueDeliveries(db: Db, nowS: number, limit: number): Promise<DeliveryRow[]> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', nowS)
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Takes a due delivery for one attempt: counts the attempt and pushes its
 * due time out by `leaseS`, only if nobody else took it since it was read
 * (compare-and-set). Several nodes, or a poll racing a fresh alert, never
 * send the same attempt twice; if this process dies mid-attempt the lease
 * runs out and the delivery is tried again.
 */
export async function claimDelivery(db: Db, row: DeliveryRow, nowS: number, leaseS: number): Promise<boolean> {
  const res = await db
    .updateTable('webhook_deliveries')
    .set({ attempts: row.attempts + 1, next_attempt_at: nowS + leaseS, updated_at: nowS })
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', row.attempts)
    .where('next_attempt_at', '=', row.next_attempt_at)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  /** When status stays pending: the next attempt's due time. */
  nextAttemptAt?: number;
  lastError: string | null;
  lastStatus: number | null;
}

/** Writes the result of an attempt (or the refusal to make one). */
export async function recordOutcome(db: Db, id: string, nowS: number, o: DeliveryOutcome): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: o.status,
      last_error: o.lastError,
      last_status: o.lastStatus,
      updated_at: nowS,
      ...(o.nextAttemptAt !== undefined ? { next_attempt_at: o.nextAttemptAt } : {}),
      ...(o.status === 'delivered' ? { delivered_at: nowS } : {}),
    })
    .where('id', '=', id)
    .execute();
}

/** Dead-letters a delivery that is never to be attempted (no secret to sign it with), if it is still pending. */
export async function deadLetterUnsent(db: Db, row: DeliveryRow, nowS: number, error: string): Promise<boolean> {
  const res = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'dead', last_error: error, updated_at: nowS })
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', row.attempts)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Removes delivered records older than `beforeS`; dead letters stay for people to look at. */
export async function pruneDelivered(db: Db, beforeS: number): Promise<number> {
  const res = await db
    .deleteFrom('webhook_deliveries')
    .where('status', '=', 'delivered')
    .where('updated_at', '<', beforeS)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
