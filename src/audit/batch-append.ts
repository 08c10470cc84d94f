import type { WriteBatcher } from '../store/write-batcher.js';
import type { AuditEventRecord, NewAuditEvent } from './append.js';
import type { AuditLog } from './log.js';

/**
 * Appends events that belong to no other write (a failed client
 * authentication) through the write batcher: every event offered in the
 * same turn of the event loop goes into one op, one chain append, and
 * commits with whatever else that batch holds. Each caller's promise
 * settles once its event is durable.
 */
export class BatchedAuditAppender {
  #pending: NewAuditEvent[] = [];
  #flush: Promise<AuditEventRecord[]> | null = null;

  constructor(
    private readonly writer: WriteBatcher<unknown>,
    private readonly audit: AuditLog,
  ) {}

  /** Resolves with the appended record after its transaction has committed. */
  append(event: NewAuditEvent): Promise<AuditEventRecord> {
    const index = this.#pending.length;
    this.#pending.push(event);
    this.#flush ??= this.#start();
    return this.#flush.then((records) => records[index]!);
  }

  #start(): Promise<AuditEventRecord[]> {
    // The batcher may run an op twice (a failed batch is retried op by op),
    // so the events are taken once and reused on a retry.
    let taken: NewAuditEvent[] | null = null;
    return this.writer
      .enqueue(async (trx) => {
        if (taken === null) {
          taken = this.#pending;
          this.#pending = [];
          this.#flush = null;
        }
        return this.audit.appendIn(trx, taken);
      })
      .then((records) => {
        this.audit.announce(records);
        return records;
      });
  }
}
