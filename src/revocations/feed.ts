/**
 * The server side of the revocation feed. One per server: it learns that
 * revocations were committed (from this process's audit log, from other
 * nodes through PostgreSQL LISTEN/NOTIFY, and by a slow poll as a safety
 * net), reads them from the audit chain in order, and hands them to every
 * connected gateway. The audit chain is the only source: a wake-up carries
 * no data, so nothing is lost or reordered when wake-ups are.
 */
import type { ServerContext } from '../http/context.js';
import type { AuditEventRecord } from '../audit/append.js';
import { nowS } from '../util/clock.js';
import type { RevocationEntry } from './entry.js';
import { isFeedEventType } from './entry.js';
import { auditHeadSeq, readEntries } from './read-entries.js';
import { currentSchema, notifyRevocations, RevocationListener } from './pg-channel.js';

/** Tuning of {@link RevocationFeed}. */
export interface RevocationFeedOptions {
  /** How often the chain is read while gateways are connected, whatever the wake-ups. Default 5000 ms. */
  pollMs?: number;
  /** Entries read per query. Default 500. */
  pageSize?: number;
  /** Entries whose `until` lies this far in the past are not sent (clock skew margin). Default 300 s. */
  forgetAfterS?: number;
}

/** One connected reader. */
export interface FeedSubscriber {
  /** Receives entries in cursor order, each once. */
  entry(e: RevocationEntry): void;
  /** The backlog is sent; `cursor` is where a reconnect resumes. */
  ready(cursor: number): void;
}

interface Subscription {
  sink: FeedSubscriber;
  /** Until the backlog is sent, live entries wait here. */
  buffer: RevocationEntry[] | null;
  /** Highest cursor sent. */
  sent: number;
}

export class RevocationFeed {
  private readonly subs = new Set<Subscription>();
  /** Highest audit seq read for live delivery. */
  private cursor = 0;
  private scanning: Promise<void> | null = null;
  private again = false;
  private listener: RevocationListener | null = null;
  private schema: string | null = null;
  private notifyPending = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly pageSize: number;
  private readonly forgetAfterS: number;
  private readonly onAppended = (records: readonly AuditEventRecord[]) => {
    if (!records.some((r) => isFeedEventType(r.type))) return;
    this.wake();
    this.notifyOthers();
  };

  constructor(
    private readonly ctx: ServerContext,
    private readonly opts: RevocationFeedOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 500;
    this.forgetAfterS = opts.forgetAfterS ?? 300;
  }

  /** Starts listening for revocations; resolves to the function that stops it. */
  async start(): Promise<() => Promise<void>> {
    this.ctx.audit.on('appended', this.onAppended);
    if (this.ctx.store.dialect === 'postgres') {
      this.schema = await currentSchema(this.ctx.store.db);
      this.listener = new RevocationListener({
        url: this.ctx.store.url,
        schema: this.schema,
        onNotice: () => this.wake(),
        onConnect: () => this.wake(),
        log: this.ctx.log,
      });
      this.listener.start();
    }
    this.pollTimer = setInterval(() => this.wake(), this.opts.pollMs ?? 5000);
    this.pollTimer.unref();
    return () => this.stop();
  }

  private async stop(): Promise<void> {
    this.ctx.audit.off('appended', this.onAppended);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.listener?.stop();
    await this.scanning?.catch(() => {});
  }

  /**
   * Sends `sink` every entry after `after` still worth knowing, then
   * `ready`, then live entries as they are committed. Returns the function
   * that ends the subscription.
   */
  async subscribe(after: number, sink: FeedSubscriber): Promise<() => void> {
    const db = this.ctx.store.db;
    const sub: Subscription = { sink, buffer: [], sent: after };
    // The live cursor starts at the head the first subscriber sees; what is
    // older comes from each subscriber's own backlog read below.
    if (this.subs.size === 0) this.cursor = Math.max(this.cursor, await auditHeadSeq(db));
    this.subs.add(sub);
    const unsubscribe = () => void this.subs.delete(sub);
    try {
      // Every relevant event up to `head` was committed before the backlog
      // query starts, so the backlog holds it; live entries up to it are duplicates.
      const head = await auditHeadSeq(db);
      let from = after;
      for (;;) {
        const page = await readEntries(db, this.readOptions(from));
        for (const e of page.entries) this.send(sub, e);
        from = page.last;
        if (page.done) break;
      }
      const readyAt = Math.max(head, from, sub.sent);
      sub.sink.ready(readyAt);
      sub.sent = readyAt;
      const buffered = sub.buffer ?? [];
      sub.buffer = null;
      for (const e of buffered) this.send(sub, e);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  /** Connected readers, for tests and metrics. */
  get subscribers(): number {
    return this.subs.size;
  }

  private readOptions(after: number) {
    return {
      after,
      limit: this.pageSize,
      tokenLifetimeS: this.ctx.config.tokenLifetimeS,
      forgetBefore: nowS(this.ctx.clock) - this.forgetAfterS,
    };
  }

  private send(sub: Subscription, e: RevocationEntry): void {
    if (e.cursor <= sub.sent) return;
    sub.sent = e.cursor;
    sub.sink.entry(e);
  }

  /** Reads what was committed since the last read; concurrent wake-ups share one reader. */
  private wake(): void {
    if (this.subs.size === 0) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = this.scanLoop().finally(() => {
      this.scanning = null;
    });
  }

  private async scanLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.scan();
      } catch (err) {
        this.ctx.log.error({ err }, 'reading revocations from the audit log failed');
        return;
      }
    } while (this.again && this.subs.size > 0);
  }

  private async scan(): Promise<void> {
    for (;;) {
      const page = await readEntries(this.ctx.store.db, this.readOptions(this.cursor));
      for (const e of page.entries) {
        for (const sub of this.subs) {
          if (sub.buffer) sub.buffer.push(e);
          else this.send(sub, e);
        }
      }
      this.cursor = Math.max(this.cursor, page.last);
      if (page.done) return;
    }
  }

  /** One NOTIFY per turn of the event loop, however many appends it saw. */
  private notifyOthers(): void {
    if (this.schema === null || this.notifyPending) return;
    this.notifyPending = true;
    setImmediate(() => {
      this.notifyPending = false;
      notifyRevocations(this.ctx.store.db, this.schema!).catch((err) =>
        this.ctx.log.warn({ err }, 'notifying other nodes of a revocation failed; they learn of it at their next poll'),
      );
    });
  }
}

const feeds = new WeakMap<ServerContext, RevocationFeed>();

/**
 * Starts the server's revocation feed (the server calls this once at start);
 * resolves to the function that stops it.
 */
export async function startRevocationFeed(ctx: ServerContext, opts?: RevocationFeedOptions): Promise<() => Promise<void>> {
  const feed = new RevocationFeed(ctx, opts);
  const stop = await feed.start();
  feeds.set(ctx, feed);
  return async () => {
    feeds.delete(ctx);
    await stop();
  };
}

/** The running feed of a server, or null before it started. */
export function revocationFeedOf(ctx: ServerContext): RevocationFeed | null {
  return feeds.get(ctx) ?? null;
}
