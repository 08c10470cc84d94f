import type { Insertable, Kysely } from 'kysely';
import type { Database, TokenTable } from '../store/schema.js';
import type { WriteBatcher } from '../store/write-batcher.js';
import type { AuditLog } from '../audit/log.js';
import type { AuditEventRecord, NewAuditEvent } from '../audit/append.js';
import { PreparedQuery } from '../store/prepared.js';

type TokenRecord = Insertable<TokenTable>;

/** Column order of the prepared INSERT; every record is written in this order. */
const COLUMNS = [
  'jti', 'token_hash', 'sub', 'client_id', 'aud', 'scope', 'grant_id', 'kid',
  'iat', 'exp', 'auth_time', 'acr', 'amr', 'revoked_at', 'revoked_reason',
] as const;

/**
 * Records issued tokens and their audit events: every token issued in the
 * same turn of the event loop goes into one transaction of the write
 * batcher, through one INSERT compiled once and run per row, and one append
 * to the audit chain for all of them. Each caller's promise settles when
 * that transaction has committed, so no token leaves the server before its
 * record and its event are durable.
 */
export class TokenRecorder {
  private rows: TokenRecord[] = [];
  private events: NewAuditEvent[] = [];
  private flush: Promise<unknown> | null = null;
  private readonly insert: PreparedQuery<unknown>;

  constructor(
    db: Kysely<Database>,
    private readonly writer: WriteBatcher<unknown>,
    private readonly audit: AuditLog,
  ) {
    const placeholder = Object.fromEntries(COLUMNS.map((c) => [c, null])) as unknown as TokenRecord;
    this.insert = new PreparedQuery(db.insertInto('tokens').values(placeholder).compile());
  }

  record(row: TokenRecord, event: NewAuditEvent): Promise<unknown> {
    this.rows.push(row);
    this.events.push(event);
    if (this.flush === null) this.flush = this.startFlush();
    return this.flush;
  }

  private async startFlush(): Promise<void> {
    // The batcher may run an op twice (a failed batch is retried op by op),
    // so the rows are taken once and reused on a retry.
    let taken: { rows: TokenRecord[]; events: NewAuditEvent[] } | null = null;
    let appended: AuditEventRecord[] = [];
    await this.writer.enqueue(async (trx) => {
      if (taken === null) {
        taken = { rows: this.rows, events: this.events };
        this.rows = [];
        this.events = [];
        this.flush = null;
      }
      for (const r of taken.rows) await this.insert.run(trx, COLUMNS.map((c) => r[c] ?? null));
      appended = await this.audit.appendIn(trx, taken.events);
    });
    this.audit.announce(appended);
  }
}
