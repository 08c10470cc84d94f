import type { Kysely, Transaction } from 'kysely';
import { JitgateError } from '../util/errors.js';
import type { Store } from './open.js';
import type { Database } from './schema.js';

/** One write, run inside a shared transaction; `arg` lets hot paths pass data without a closure. */
export type WriteOp<R, A = undefined> = (trx: Transaction<Database>, arg: A) => Promise<R>;

/** Options of {@link WriteBatcher}. */
export interface WriteBatcherOptions {
  /** Most ops in one transaction; a batch that reaches it is flushed at once (default 128). */
  maxBatch?: number;
  /**
   * Batch transactions running at once (default 1 on SQLite, whose one
   * connection serializes them anyway; 2 on PostgreSQL). While all are busy,
   * new ops keep collecting, so batches grow with load: that is group commit.
   */
  maxInFlight?: number;
}

/** Counters, for metrics and tests. */
export interface WriteBatcherStats {
  /** Ops accepted. */
  ops: number;
  /** Batch transactions committed. */
  batches: number;
  /** Batch transactions that failed, after which each of their ops ran alone. */
  failedBatches: number;
}

// `never`: every op type, whatever its argument, is assignable to it.
type AnyOp = WriteOp<unknown, never>;

/** Parallel arrays, reused from batch to batch: slots [0, n) are live. */
interface Batch {
  n: number;
  ops: AnyOp[];
  args: unknown[];
  resolves: Array<(value: unknown) => void>;
  rejects: Array<(reason: unknown) => void>;
  results: unknown[];
}

function newBatch(): Batch {
  return { n: 0, ops: [], args: [], resolves: [], rejects: [], results: [] };
}

// A single executor function for every promise the batcher hands out, so
// enqueue allocates no closure of its own.
let capturedResolve: ((value: unknown) => void) | undefined;
let capturedReject: ((reason: unknown) => void) | undefined;
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * Group commit for hot-path writes (token issuance). Ops enqueued in the
 * same turn of the event loop run in ONE transaction, in enqueue order; each
 * caller's promise settles only after that transaction has committed. If the
 * batch fails, every op of it runs again alone, in its own transaction, so
 * one bad op fails only its own caller.
 *
 * Ops therefore may run twice (once in the failed batch, rolled back, then
 * alone) and must do nothing outside the transaction. Ops of batches that run
 * concurrently (PostgreSQL, `maxInFlight` > 1) have no order between them: a
 * caller that needs one write before another awaits the first.
 */
export class WriteBatcher<T = unknown> {
  readonly #db: Kysely<Database>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #current: Batch = newBatch();
  /** Full batches waiting for a free transaction slot. */
  readonly #ready: Batch[] = [];
  readonly #spare: Batch[] = [];
  #inFlight = 0;
  #scheduled = false;
  #closed = false;
  #drained: Array<() => void> = [];
  readonly #stats: WriteBatcherStats = { ops: 0, batches: 0, failedBatches: 0 };
  readonly #onImmediate = (): void => {
    this.#scheduled = false;
    if (this.#current.n > 0 && this.#inFlight < this.#maxInFlight) this.#start(this.#seal());
  };

  constructor(store: Store, opts: WriteBatcherOptions = {}) {
    this.#db = store.db;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 128);
    this.#maxInFlight = Math.max(1, opts.maxInFlight ?? (store.dialect === 'sqlite' ? 1 : 2));
  }

  /**
   * Runs `op` in the next batch transaction; resolves with its result once
   * that transaction has committed. Rejects with the op's own error, or
   * `batcher_closed` after {@link close}.
   */
  enqueue<R extends T>(op: WriteOp<R>): Promise<R>;
  enqueue<R extends T, A>(op: WriteOp<R, A>, arg: A): Promise<R>;
  enqueue(op: AnyOp, arg?: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(new JitgateError('batcher_closed', 'write batcher is closed'));
    const promise = new Promise(capture);
    const b = this.#current;
    const i = b.n++;
    b.ops[i] = op;
    b.args[i] = arg;
    b.resolves[i] = capturedResolve!;
    b.rejects[i] = capturedReject!;
    this.#stats.ops++;
    if (b.n >= this.#maxBatch) {
      const full = this.#seal();
      if (this.#inFlight < this.#maxInFlight) this.#start(full);
      else this.#ready.push(full);
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate);
    }
    return promise;
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<WriteBatcherStats> {
    return { ...this.#stats };
  }

  /** Refuses new ops, then resolves once every accepted op has settled. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#current.n > 0) {
      const last = this.#seal();
      if (this.#inFlight < this.#maxInFlight) this.#start(last);
      else this.#ready.push(last);
    }
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #seal(): Batch {
    const b = this.#current;
    this.#current = this.#spare.pop() ?? newBatch();
    return b;
  }

  #start(b: Batch): void {
    this.#inFlight++;
    void this.#run(b).finally(() => this.#finished(b));
  }

  #finished(b: Batch): void {
    this.#inFlight--;
    const n = b.n;
    // Drop references so settled ops and their results can be collected.
    for (let i = 0; i < n; i++) {
      b.ops[i] = undefined as unknown as AnyOp;
      b.args[i] = undefined;
      b.resolves[i] = undefined as unknown as (value: unknown) => void;
      b.rejects[i] = undefined as unknown as (reason: unknown) => void;
      b.results[i] = undefined;
    }
    b.n = 0;
    this.#spare.push(b);

    const next = this.#ready.shift();
    if (next) this.#start(next);
    else if (this.#current.n > 0) this.#start(this.#seal());
    else if (this.#inFlight === 0 && this.#drained.length > 0) {
      const waiters = this.#drained;
      this.#drained = [];
      for (const w of waiters) w();
    }
  }

  async #run(b: Batch): Promise<void> {
    const n = b.n;
    try {
      await this.#db.transaction().execute(async (trx) => {
        for (let i = 0; i < n; i++) b.results[i] = await b.ops[i]!(trx, b.args[i] as never);
      });
    } catch (batchError) {
      this.#stats.failedBatches++;
      if (n === 1) {
        b.rejects[0]!(batchError);
        return;
      }
      await this.#runAlone(b, n);
      return;
    }
    this.#stats.batches++;
    for (let i = 0; i < n; i++) b.resolves[i]!(b.results[i]);
  }

  async #runAlone(b: Batch, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const op = b.ops[i]!;
      const arg = b.args[i] as never;
      try {
        const result = await this.#db.transaction().execute((trx) => op(trx, arg));
        b.resolves[i]!(result);
      } catch (err) {
        b.rejects[i]!(err);
      }
    }
  }
}
