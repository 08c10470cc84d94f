/**
 * Counts failures per key (a client id, an address) in a fixed window and
 * refuses further attempts once a key has failed too often. Kept in memory:
 * each node limits on its own, which bounds guessing per node without a
 * shared write on every failed attempt.
 */
export interface FailureLimiterOptions {
  /** Failures allowed per key within the window. */
  maxFailures: number;
  windowMs: number;
  /** Upper bound on tracked keys, so a flood of distinct keys cannot exhaust memory. */
  maxKeys?: number;
}

interface Entry {
  count: number;
  resetAt: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;

  constructor(private readonly opts: FailureLimiterOptions) {
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  /** Milliseconds until the key may try again, or 0 when it may now. */
  blockedFor(key: string, nowMs: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (e.resetAt <= nowMs) {
      this.entries.delete(key);
      return 0;
    }
    return e.count >= this.opts.maxFailures ? e.resetAt - nowMs : 0;
  }

  recordFailure(key: string, nowMs: number): void {
    const e = this.entries.get(key);
    if (e && e.resetAt > nowMs) {
      e.count++;
      return;
    }
    if (this.entries.size >= this.maxKeys) this.evictExpired(nowMs);
    if (this.entries.size >= this.maxKeys) {
      // Still full of live keys: drop the oldest insertion rather than grow without bound.
      const first = this.entries.keys().next().value;
      if (first !== undefined) this.entries.delete(first);
    }
    this.entries.set(key, { count: 1, resetAt: nowMs + this.opts.windowMs });
  }

  private evictExpired(nowMs: number): void {
    for (const [k, e] of this.entries) if (e.resetAt <= nowMs) this.entries.delete(k);
  }
}
