/**
 * Usage as the gateway sees it: every forwarded request counts once for
 * each scope its route needed, per (principal, scope, resource), with the
 * first and last instant of use; tokens refused because they or their
 * grants were revoked are noted by id. Both are sent to the server in one
 * report (`POST /api/v1/usage`) every few seconds and at shutdown.
 *
 * The per-request cost is a Map lookup by object identity and a few
 * increments: the counters a token uses on a route are looked up once, by a
 * string key, and kept on the token's cache entry. Counters idle for a whole
 * flush interval leave the map (and are marked detached, so a cache entry
 * still holding one looks it up again). A report that fails stays in the
 * counters and goes with the next one. Memory is bounded: past `maxKeys`
 * distinct keys, further uses are counted as dropped and reported.
 */
import { request } from 'undici';
import type { Logger } from 'pino';
import type { AccessTokenClaims } from '../tokens/claims.js';
import type { RevokedBecause } from './revocation-set.js';
import type { ServiceToken } from './service-token.js';
import { MAX_REPORT_ENTRIES, type RevokedUse, type UsageEntry } from '../usage/report.js';

/** One (principal, scope, resource): uses not yet reported. */
export interface UsageCounter {
  readonly principal: string;
  readonly scope: string;
  readonly resource: string;
  count: number;
  /** Epoch seconds; 0 while `count` is 0. */
  first: number;
  last: number;
  /** Left the recorder's map: whoever holds it must look the key up again. */
  detached: boolean;
}

/** What a verified token's cache entry keeps for the recorder: counters per route it was used on. */
export type UsageSlots = Map<object, UsageCounter[]>;

/** Routes remembered per token; a token wandering over more routes than this starts over. */
const MAX_SLOTS_PER_TOKEN = 16;
/** Report bodies stay well under the server's 64 KiB body limit. */
const MAX_REPORT_BYTES = 48 * 1024;

export interface UsageRecorderOptions {
  /** The jitgate server, as the gateway reaches it (`--server`). */
  server: string;
  /** Milliseconds between reports. Default 10000. */
  flushMs?: number;
  /** Distinct (principal, scope, resource) keys kept between reports. Default 50000. */
  maxKeys?: number;
  /** Revoked tokens noted between reports. Default 1000. */
  maxRevoked?: number;
  log: Logger;
}

export interface FlushResult {
  /** Usage entries and refusals the server accepted. */
  sent: number;
  /** Whether everything pending was delivered (false: it stays for the next try). */
  ok: boolean;
}

export class UsageRecorder {
  private readonly counters = new Map<string, UsageCounter>();
  private readonly revoked = new Map<string, RevokedUse>();
  private readonly maxKeys: number;
  private readonly maxRevoked: number;
  private readonly url: string;
  private token: ServiceToken | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<FlushResult> | null = null;
  /** Uses and refusals that found no room since the last report that got through. */
  private dropped = 0;

  constructor(private readonly opts: UsageRecorderOptions) {
    this.maxKeys = opts.maxKeys ?? 50_000;
    this.maxRevoked = opts.maxRevoked ?? 1000;
    this.url = `${opts.server.replace(/\/+$/, '')}/api/v1/usage`;
  }

  /** Starts reporting with the gateway's service token (known once the server's metadata is). */
  start(token: ServiceToken): void {
    this.token = token;
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs ?? 10_000);
    this.timer.unref();
  }

  /**
   * Counts one forwarded request: `holder` is the token's cache entry (its
   * `usage` memo), `route` the matched route (its identity is the memo key),
   * `scopes` what it needed, `nowS` the gateway's clock.
   */
  record(holder: { usage?: UsageSlots }, principal: string, route: object, scopes: readonly string[], resource: string, nowS: number): void {
    if (scopes.length === 0) return;
    let counters = holder.usage?.get(route);
    if (counters === undefined || anyDetached(counters)) {
      const found = this.lookup(principal, scopes, resource);
      if (found === null) {
        this.dropped++;
        return;
      }
      let slots = holder.usage;
      if (!slots) holder.usage = slots = new Map();
      else if (slots.size >= MAX_SLOTS_PER_TOKEN) slots.clear();
      slots.set(route, found);
      counters = found;
    }
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]!;
      if (c.count === 0) c.first = nowS;
      c.count++;
      c.last = nowS;
    }
  }

  /** Notes a token refused because it or its grant was revoked; withdrawn scopes are policy changes and are not noted. */
  refused(claims: AccessTokenClaims, resource: string, because: RevokedBecause, nowS: number): void {
    if (because === 'scope_withdrawn') return;
    const seen = this.revoked.get(claims.jti);
    if (seen) {
      seen.at = nowS;
      return;
    }
    if (this.revoked.size >= this.maxRevoked) {
      this.dropped++;
      return;
    }
    this.revoked.set(claims.jti, {
      jti: claims.jti,
      principal: claims.sub,
      resource,
      cause: because === 'token_revoked' ? 'token_revoked' : 'grant_revoked',
      at: nowS,
    });
  }

  /** Keys held now (tests, metrics). */
  get size(): number {
    return this.counters.size;
  }

  /**
   * Sends what has been counted since the last report. Concurrent calls share
   * one report. Never throws: a failure is logged and the counts stay.
   */
  flush(): Promise<FlushResult> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer and sends what is left, waiting at most `withinMs` for the server (default 5000). */
  async close(withinMs = 5000): Promise<FlushResult> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<FlushResult>((r) => {
      timer = setTimeout(() => r({ sent: 0, ok: false }), withinMs);
      timer.unref();
    });
    try {
      return await Promise.race([(this.flushing ?? Promise.resolve()).then(() => this.flush()), giveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  private lookup(principal: string, scopes: readonly string[], resource: string): UsageCounter[] | null {
    const out: UsageCounter[] = [];
    for (const scope of scopes) {
      const key = `${principal}\n${scope}\n${resource}`;
      let c = this.counters.get(key);
      if (!c) {
        if (this.counters.size >= this.maxKeys) return null;
        c = { principal, scope, resource, count: 0, first: 0, last: 0, detached: false };
        this.counters.set(key, c);
      }
      out.push(c);
    }
    return out;
  }

  private async send(): Promise<FlushResult> {
    const taken: { counter: UsageCounter; entry: UsageEntry }[] = [];
    for (const [key, c] of this.counters) {
      if (c.count === 0) {
        // Idle for a whole interval: forget it; a token still holding it looks it up again.
        this.counters.delete(key);
        c.detached = true;
        continue;
      }
      taken.push({ counter: c, entry: { principal: c.principal, scope: c.scope, resource: c.resource, count: c.count, first_used: c.first, last_used: c.last } });
      c.count = 0;
      c.first = 0;
    }
    const refusals = [...this.revoked.values()];
    this.revoked.clear();
    const dropped = this.dropped;
    this.dropped = 0;
    if (dropped > 0) this.opts.log.warn({ dropped }, 'usage dropped: more distinct keys or revoked tokens than the recorder keeps between reports');
    if (taken.length === 0 && refusals.length === 0 && dropped === 0) return { sent: 0, ok: true };

    const reports = chunk(taken.map((t) => t.entry), refusals, dropped);
    let sent = 0;
    let failedAt = -1;
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i]!;
      const outcome = await this.post(r.body);
      if (outcome === 'retry') {
        failedAt = i;
        break;
      }
      // 'refused': the server will never take this report; keeping it would block every later one.
      if (outcome === 'ok') sent += r.usage.length + r.revoked.length;
    }
    if (failedAt < 0) return { sent, ok: true };

    // Put back what did not get through; new uses since then merge with it.
    for (const r of reports.slice(failedAt)) {
      for (const e of r.usage) this.restore(e);
      for (const rv of r.revoked) if (!this.revoked.has(rv.jti) && this.revoked.size < this.maxRevoked) this.revoked.set(rv.jti, rv);
      this.dropped += r.dropped;
    }
    return { sent, ok: false };
  }

  private restore(e: UsageEntry): void {
    const key = `${e.principal}\n${e.scope}\n${e.resource}`;
    let c = this.counters.get(key);
    if (!c) {
      if (this.counters.size >= this.maxKeys) {
        this.dropped += e.count;
        return;
      }
      c = { principal: e.principal, scope: e.scope, resource: e.resource, count: 0, first: 0, last: 0, detached: false };
      this.counters.set(key, c);
    }
    c.first = c.count === 0 ? e.first_used : Math.min(c.first, e.first_used);
    c.last = Math.max(c.last, e.last_used);
    c.count += e.count;
  }

  private async post(body: string): Promise<'ok' | 'retry' | 'refused'> {
    const token = this.token;
    if (!token) return 'retry';
    try {
      const bearer = await token.get();
      const res = await request(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json' },
        body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) return 'ok';
      if (res.statusCode === 401) token.invalidate();
      if (res.statusCode === 400 || res.statusCode === 413 || res.statusCode === 422) {
        this.opts.log.error({ status: res.statusCode, detail: detailOf(text) }, 'the server refused a usage report; it is dropped');
        return 'refused';
      }
      this.opts.log.warn({ status: res.statusCode, detail: detailOf(text) }, 'usage report not accepted; kept for the next try');
      return 'retry';
    } catch (err) {
      this.opts.log.warn({ err: { message: (err as Error).message } }, 'usage report failed; kept for the next try');
      return 'retry';
    }
  }
}

function anyDetached(counters: readonly UsageCounter[]): boolean {
  for (let i = 0; i < counters.length; i++) if (counters[i]!.detached) return true;
  return false;
}

interface Report {
  usage: UsageEntry[];
  revoked: RevokedUse[];
  dropped: number;
  body: string;
}

/** Reports of at most MAX_REPORT_ENTRIES entries of each kind and MAX_REPORT_BYTES each; `dropped` rides on the first. */
function chunk(usage: readonly UsageEntry[], revoked: readonly RevokedUse[], dropped: number): Report[] {
  const out: Report[] = [];
  let cur: { usage: [UsageEntry, string][]; revoked: [RevokedUse, string][]; bytes: number } = { usage: [], revoked: [], bytes: 64 };
  const close = () => {
    const d = out.length === 0 ? dropped : 0;
    const body = `{"usage":[${cur.usage.map(([, s]) => s).join(',')}],"revoked":[${cur.revoked.map(([, s]) => s).join(',')}]${d > 0 ? `,"dropped":${d}` : ''}}`;
    out.push({ usage: cur.usage.map(([e]) => e), revoked: cur.revoked.map(([e]) => e), dropped: d, body });
    cur = { usage: [], revoked: [], bytes: 64 };
  };
  const add = <T>(list: 'usage' | 'revoked', e: T) => {
    const s = JSON.stringify(e);
    const bytes = Buffer.byteLength(s) + 1;
    if (cur.bytes + bytes > MAX_REPORT_BYTES || cur[list].length >= MAX_REPORT_ENTRIES) close();
    (cur[list] as [T, string][]).push([e, s]);
    cur.bytes += bytes;
  };
  for (const e of usage) add('usage', e);
  for (const e of revoked) add('revoked', e);
  if (cur.usage.length > 0 || cur.revoked.length > 0 || out.length === 0) close();
  return out;
}

function detailOf(text: string): string | undefined {
  try {
    const d = (JSON.parse(text) as { detail?: unknown }).detail;
    return typeof d === 'string' ? d.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}
