import type { Kysely, Selectable } from 'kysely';
import type { AlertTable, Database } from '../store/schema.js';
import type { AuditLog } from '../audit/log.js';
import type { WebhookDef } from '../policy/types.js';
import type { AlertType, AlertView, RaisedAlert, Severity } from './alert.js';
import { newAlertsId } from './ids.js';
import { webhooksFor } from './subscriptions.js';
import { insertDeliveries, newDeliveryRows } from './delivery-store.js';

/**
 * Stores raised alerts in one transaction with, for each, its `alert.raised`
 * audit event (whose seq becomes the alert's) and a pending delivery to every
 * webhook subscribed to its type. Returns the stored alerts.
 */
export async function saveAlerts(
  audit: AuditLog,
  raised: readonly RaisedAlert[],
  webhooks: readonly WebhookDef[],
  nowS: number,
  maxAttempts: number,
): Promise<AlertView[]> {
  if (raised.length === 0) return [];
  const withIds = raised.map((a) => ({ ...a, id: newAlertsId('al') }));
  return audit.transact(async (trx, append) => {
    const records = await append(
      withIds.map((a) => ({
        type: 'alert.raised',
        actor: null,
        subject: a.principal,
        data: { alertId: a.id, type: a.type, severity: a.severity, summary: a.summary, details: a.details, eventSeq: a.eventSeq },
        atMs: nowS * 1000,
      })),
    );
    const views: AlertView[] = withIds.map((a, i) => ({
      id: a.id,
      seq: records[i]!.seq,
      type: a.type,
      severity: a.severity,
      at: a.at,
      principal: a.principal,
      summary: a.summary,
      details: a.details,
      event_seq: a.eventSeq,
    }));
    await trx
      .insertInto('alerts')
      .values(
        views.map((v) => ({
          seq: v.seq,
          id: v.id,
          type: v.type,
          severity: v.severity,
          at: v.at,
          principal: v.principal,
          summary: v.summary,
          details: JSON.stringify(v.details),
          event_seq: v.event_seq,
          created_at: nowS,
        })),
      )
      .execute();
    await insertDeliveries(
      trx,
      views.flatMap((v) => newDeliveryRows({ kind: 'alert', alert: v }, webhooksFor(webhooks, v.type), nowS, maxAttempts)),
    );
    return views;
  });
}

export interface AlertQuery {
  /** Only alerts with a larger seq (the cursor). */
  after?: number;
  type?: AlertType;
  limit: number;
}

/** Stored alerts in seq order, oldest first. */
export async function listAlerts(db: Kysely<Database>, q: AlertQuery): Promise<AlertView[]> {
  let sel = db.selectFrom('alerts').selectAll();
  if (q.after !== undefined) sel = sel.where('seq', '>', q.after);
  if (q.type !== undefined) sel = sel.where('type', '=', q.type);
  const rows = await sel.orderBy('seq').limit(q.limit).execute();
  return rows.map(alertViewOf);
}

export function alertViewOf(row: Selectable<AlertTable>): AlertView {
  return {
    id: row.id,
    seq: Number(row.seq),
    type: row.type as AlertType,
    severity: row.severity as Severity,
    at: row.at,
    principal: row.principal,
    summary: row.summary,
    details: JSON.parse(row.details) as Record<string, unknown>,
    event_seq: Number(row.event_seq),
  };
}
