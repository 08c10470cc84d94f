import { EventEmitter } from 'node:events';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/open.js';
import type { Clock } from '../util/clock.js';
import { appendAuditEvents, type AuditEventRecord, type NewAuditEvent } from './append.js';

export type AppendFn = (events: readonly NewAuditEvent[]) => Promise<AuditEventRecord[]>;

/**
 * The audit log as the rest of the server uses it. Events are appended to
 * the hash chain inside the transaction of the change they record (no change
 * without its event, no event without its change) and announced to
 * listeners (alert detectors, notifications) only after that transaction
 * has committed, so nobody reacts to something that was rolled back.
 */
export class AuditLog extends EventEmitter<{ appended: [readonly AuditEventRecord[]] }> {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** Runs `fn` in a transaction; what it appends is committed with it and announced after. */
  async transact<T>(fn: (trx: Transaction<Database>, append: AppendFn) => Promise<T>): Promise<T> {
    const appended: AuditEventRecord[] = [];
    const result = await this.store.db.transaction().execute((trx) =>
      fn(trx, async (events) => {
        const recs = await this.appendIn(trx, events);
        appended.push(...recs);
        return recs;
      }),
    );
    this.announce(appended);
    return result;
  }

  /** Appends inside a transaction the caller owns; the caller announces after its commit. */
  appendIn(trx: Transaction<Database>, events: readonly NewAuditEvent[]): Promise<AuditEventRecord[]> {
    return appendAuditEvents(trx, this.store.dialect, events, this.clock.nowMs());
  }

  announce(records: readonly AuditEventRecord[]): void {
    if (records.length > 0 && this.listenerCount('appended') > 0) this.emit('appended', records);
  }
}
