/**
 * Tokens whose signature has been verified, kept until their `exp` so a
 * token used many times costs one signature check. Keyed by the SHA-256 of
 * the token, so the cache holds no usable credential. Bounded: the least
 * recently used entry goes first.
 */
import * as crypto from 'node:crypto';
import type { AccessTokenClaims } from '../tokens/claims.js';
import type { UsageSlots } from './usage-recorder.js';

export interface CachedToken {
  claims: AccessTokenClaims;
  scopes: readonly string[];
  /** The usage recorder's counters for this token, per route: looked up once, not per request. */
  usage?: UsageSlots;
}

/** SHA-256 of `token`, base64url: the one-shot `crypto.hash` where Node has it (20.12+), which allocates no Hash object. */
export const tokenCacheKey: (token: string) => string =
  typeof crypto.hash === 'function'
    ? (token) => crypto.hash('sha256', token, 'base64url')
    : (token) => crypto.createHash('sha256').update(token).digest('base64url');

/** Hit and miss counters (metrics); bound once, incremented per lookup. */
export interface CacheStats {
  hits: { inc(): void };
  misses: { inc(): void };
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, CachedToken>();

  constructor(
    private readonly maxEntries: number,
    private readonly stats?: CacheStats,
  ) {}

  /** The entry while its token is unexpired at `nowS`. */
  get(key: string, nowS: number): CachedToken | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      this.stats?.misses.inc();
      return undefined;
    }
    this.entries.delete(key);
    if (hit.claims.exp <= nowS) {
      this.stats?.misses.inc();
      return undefined;
    }
    this.entries.set(key, hit);
    this.stats?.hits.inc();
    return hit;
  }

  set(key: string, value: CachedToken): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
