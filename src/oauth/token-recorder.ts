import type { Insertable, Kysely } from 'kysely';
import type { Database, TokenTable } from '../store/schema.js';
import { PreparedQuery } from '../store/prepared.js';
import type { WriteBatcher } from '../store/write-batcher.js';

type TokenRecord = Insertable<TokenTable>;

/** Column order of the prepared INSERT; every record is written in this order. */
const COLUMNS = [
  'jti', 'token_hash', 'sub', 'client_id', 'aud', 'scope', 'grant_id', 'kid',
  'iat', 'exp', 'auth_time', 'acr', 'amr', 'revoked_at', 'revoked_reason',
] as const;

/**
 * Records issued tokens: every token issued in the same turn of the event
 * loop goes into one transaction of the write batcher, through one INSERT
 * compiled once and run per row (a prepared statement on SQLite). Each
 * caller's promise settles when that transaction commits.
 */
export class TokenRecorder {
  private pending: TokenRecord[] = [];
  private flush: Promise<unknown> | null = null;

  private readonly insert: PreparedQuery<unknown>;

  constructor(db: Kysely<Database>, private readonly writer: WriteBatcher<unknown>) {
    const placeholder = Object.fromEntries(COLUMNS.map((c) => [c, null])) as unknown as TokenRecord;
    this.insert = new PreparedQuery(db.insertInto('tokens').values(placeholder).compile());
  }

  record(row: TokenRecord): Promise<unknown> {
    this.pending.push(row);
    if (this.flush === null) {
      // The batcher may run an op twice (a failed batch is retried op by op),
      // so the rows are taken once and reused on a retry.
      let rows: TokenRecord[] | null = null;
      this.flush = this.writer.enqueue(async (trx) => {
        if (rows === null) {
          rows = this.pending;
          this.pending = [];
          this.flush = null;
        }
        for (const r of rows) await this.insert.run(trx, COLUMNS.map((c) => r[c] ?? null));
      });
    }
    return this.flush;
  }
}
