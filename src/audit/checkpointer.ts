/**
 * The server's background task that signs checkpoints of the audit chain:
 * after every `everyEvents` events it appends, and every `everyMs` when the
 * chain has grown (events written by other nodes, or too few to reach the
 * count). Several nodes on one database may sign the same head; the first
 * row wins and the rest are dropped.
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Signer } from '../tokens/signer.js';
import type { Clock } from '../util/clock.js';
import type { AuditEventRecord } from './append.js';
import { signCheckpoint } from './checkpoint-token.js';
import type { AuditLog } from './log.js';

/** When checkpoints are written. */
export interface CheckpointSchedule {
  /** After this many events appended by this process (default 1000). */
  everyEvents: number;
  /** And at least this often while the chain grows, ms (default 60 s). */
  everyMs: number;
}

export const DEFAULT_CHECKPOINT_SCHEDULE: CheckpointSchedule = { everyEvents: 1000, everyMs: 60_000 };

/** A written checkpoint row. */
export interface WrittenCheckpoint {
  seq: number;
  hash: string;
  at: string;
  kid: string;
  jws: string;
}

/**
 * Signs the chain head as it is committed now and stores the checkpoint,
 * unless a checkpoint at or past the head exists. Returns what it wrote.
 */
export async function writeCheckpoint(
  db: Kysely<Database>,
  signer: Signer,
  issuer: string,
  nowMs: number,
): Promise<WrittenCheckpoint | null> {
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  const seq = Number(head.seq);
  if (seq === 0) return null;
  const latest = await db.selectFrom('audit_checkpoints').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (latest && Number(latest.seq) >= seq) return null;
  const at = new Date(nowMs).toISOString();
  const jws = signCheckpoint(signer, { iss: issuer, seq, hash: head.hash, at });
  const row = { seq, hash: head.hash, at, kid: signer.kid, jws };
  const res = await db
    .insertInto('audit_checkpoints')
    .values(row)
    .onConflict((oc) => oc.column('seq').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1 ? row : null;
}

export interface CheckpointerDeps {
  db: Kysely<Database>;
  /** The key that signs at an instant (epoch seconds). */
  signer: (nowS: number) => Signer;
  issuer: () => string;
  clock: Clock;
  log: Logger;
  schedule: CheckpointSchedule;
}

export class Checkpointer {
  readonly #deps: CheckpointerDeps;
  #sinceLast = 0;
  #running: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #audit: AuditLog | null = null;
  #stopped = false;
  readonly #onAppended = (records: readonly AuditEventRecord[]): void => {
    this.#sinceLast += records.length;
    if (this.#sinceLast >= this.#deps.schedule.everyEvents) void this.checkpointNow();
  };

  constructor(deps: CheckpointerDeps) {
    this.#deps = deps;
  }

  /** Listens to `audit`, starts the timer, and signs what is not covered yet (events of a previous run). */
  start(audit: AuditLog): void {
    this.#audit = audit;
    audit.on('appended', this.#onAppended);
    this.#timer = setInterval(() => void this.checkpointNow(), this.#deps.schedule.everyMs);
    this.#timer.unref();
    void this.checkpointNow();
  }

  /** Signs the head now (coalesced: one write at a time, one more if asked meanwhile). Never rejects. */
  checkpointNow(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#sinceLast = 0;
    this.#running = this.#write().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.checkpointNow();
      }
    });
    return this.#running;
  }

  async #write(): Promise<void> {
    const { db, signer, issuer, clock, log } = this.#deps;
    try {
      const nowMs = clock.nowMs();
      const written = await writeCheckpoint(db, signer(Math.floor(nowMs / 1000)), issuer(), nowMs);
      if (written) log.debug({ seq: written.seq, kid: written.kid }, 'audit checkpoint signed');
    } catch (err) {
      log.error({ err }, 'signing an audit checkpoint failed; the next attempt follows with the next events or the timer');
    }
  }

  /** Stops listening and waits for a write in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#audit?.off('appended', this.#onAppended);
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
