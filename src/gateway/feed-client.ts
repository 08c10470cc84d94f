/**
 * The gateway's end of the revocation feed: one long-lived SSE request to
 * the server, entries applied as they arrive, reconnection with backoff and
 * resumption after the last cursor. It keeps the instant it last heard from
 * a caught-up feed (any byte, including keep-alive comments), which is what
 * the gateway's fail-closed check reads.
 */
import { request } from 'undici';
import type { Logger } from 'pino';
import { FEED_EVENT, parseFeedReady, parseRevocationEntry, type RevocationEntry } from '../revocations/entry.js';
import { SseParser, type SseMessage } from './sse-parser.js';
import type { ServiceToken } from './service-token.js';

export interface FeedClientOptions {
  /** `{server}/api/v1/revocations`. */
  feedUrl: string;
  token: ServiceToken;
  onEntry(e: RevocationEntry): void;
  /** Milliseconds on a clock that only moves forward. */
  monotonicMs(): number;
  /** Keep-alive interval asked of the server, ms. */
  heartbeatMs: number;
  /** A connection silent this long is dropped and made again, ms. */
  idleTimeoutMs: number;
  log: Logger;
  /** Longest wait between reconnection attempts, ms. Default 2000. */
  maxBackoffMs?: number;
}

export class FeedClient {
  /** Where a reconnection resumes: the last entry applied or `ready` seen. */
  cursor = 0;
  private synced = false;
  private lastSyncMs: number | null = null;
  private stopped = false;
  private abort = new AbortController();
  private loop: Promise<void> | null = null;
  private wakeSleep: (() => void) | null = null;
  private firstSync!: () => void;
  /** Resolves once the feed has first caught up. */
  readonly ready: Promise<void> = new Promise((r) => (this.firstSync = r));

  constructor(private readonly opts: FeedClientOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wakeSleep?.();
    await this.loop;
  }

  /** Milliseconds since the feed was last heard from while caught up; null if never. */
  ageMs(): number | null {
    return this.lastSyncMs === null ? null : this.opts.monotonicMs() - this.lastSyncMs;
  }

  /** Connected and caught up right now. */
  get connected(): boolean {
    return this.synced;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      let clean = false;
      const began = this.opts.monotonicMs();
      try {
        // A clean end (the feed token expired) is followed at once by a new
        // connection, unless the last one was too short-lived to trust that.
        clean = (await this.connectOnce()) && this.opts.monotonicMs() - began > 1000;
      } catch (err) {
        if (this.stopped) break;
        this.opts.log.warn({ err: { message: (err as Error).message } }, 'revocation feed disconnected; reconnecting');
      }
      this.synced = false;
      if (this.stopped) break;
      if (clean) {
        backoff = 100;
        continue;
      }
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 2000);
    }
  }

  /** One connection, until it ends; true when the server ended it cleanly (`end` event). */
  private async connectOnce(): Promise<boolean> {
    const token = await this.opts.token.get();
    const url = `${this.opts.feedUrl}?after=${this.cursor}&heartbeat=${this.opts.heartbeatMs}`;
    const res = await request(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: this.abort.signal,
      headersTimeout: 10_000,
      bodyTimeout: this.opts.idleTimeoutMs,
    });
    if (res.statusCode !== 200) {
      const text = (await res.body.text().catch(() => '')).slice(0, 300);
      if (res.statusCode === 401) this.opts.token.invalidate();
      throw new Error(`the revocation feed answered ${res.statusCode}: ${text}`);
    }
    let ended = false;
    const parser = new SseParser({
      message: (m) => {
        if (this.onMessage(m)) ended = true;
      },
    });
    for await (const chunk of res.body) {
      parser.push(chunk as Buffer);
      if (this.synced) this.lastSyncMs = this.opts.monotonicMs();
    }
    return ended;
  }

  /** Applies one event; true for `end`. */
  private onMessage(m: SseMessage): boolean {
    if (m.event === FEED_EVENT.end) {
      this.opts.token.invalidate();
      return true;
    }
    let value: unknown;
    try {
      value = JSON.parse(m.data);
    } catch {
      throw new Error(`the revocation feed sent a malformed ${m.event} event`);
    }
    if (m.event === FEED_EVENT.revocation) {
      const entry = parseRevocationEntry(value);
      // Skipping an entry would silently accept what it revokes: drop the connection instead.
      if (!entry) throw new Error('the revocation feed sent an entry this gateway cannot read');
      this.opts.onEntry(entry);
      this.cursor = Math.max(this.cursor, entry.cursor);
    } else if (m.event === FEED_EVENT.ready) {
      const ready = parseFeedReady(value);
      if (!ready) throw new Error('the revocation feed sent a malformed ready event');
      this.cursor = Math.max(this.cursor, ready.cursor);
      this.synced = true;
      this.lastSyncMs = this.opts.monotonicMs();
      this.firstSync();
    }
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}
