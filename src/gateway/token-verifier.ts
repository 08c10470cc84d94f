/**
 * Offline checks of jitgate access tokens at the gateway: signature against
 * the server's published JWKS (fetched once, cached, and fetched again when
 * a token names a key not seen yet, at most once per cooldown), `typ:
 * at+jwt`, issuer, expiry and the claim shapes. Verified tokens are cached
 * until their `exp`; audience, route scopes and revocations are checked per
 * request by the caller, since they depend on the request and on time.
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';
import type { Clock } from '../util/clock.js';
import { ACCESS_TOKEN_TYP, accessTokenClaimsSchema } from '../tokens/claims.js';
import { SIGNING_ALG } from '../tokens/signing-key-material.js';
import { VerifiedTokenCache, tokenCacheKey, type CacheStats, type CachedToken } from './token-cache.js';

/** Longer than any jitgate token; a bound on the work an unauthenticated caller can cause. */
const MAX_TOKEN_LENGTH = 8192;
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'client_id', 'scope', 'jti', 'iat', 'exp'];

export interface TokenVerifierOptions {
  issuer: string;
  jwksUri: string;
  clock: Clock;
  /** Verified tokens kept. Default 10000. */
  cacheSize?: number;
  /** Least time between two JWKS fetches caused by unknown key ids, ms. Default 30000. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again, ms. Default 600000. */
  jwksMaxAgeMs?: number;
  /** Counts cache hits and misses (metrics). */
  cacheStats?: CacheStats;
  /** Called on every JWKS fetch (metrics). */
  onJwksFetch?: () => void;
}

export type VerifyResult =
  | { ok: true; token: CachedToken }
  /** `invalid_token`: the token is at fault (401). `jwks_unavailable`: the keys could not be fetched (503). */
  | { ok: false; code: 'invalid_token' | 'jwks_unavailable'; reason: string };

export class TokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly cache: VerifiedTokenCache;
  /**
   * Verifications under way, by cache key: concurrent requests with a token
   * not yet cached wait for its one signature check instead of each doing
   * their own (under load, a fresh token otherwise was verified dozens of times).
   */
  private readonly pending = new Map<string, Promise<VerifyResult>>();

  constructor(private readonly opts: TokenVerifierOptions) {
    this.jwks = createRemoteJWKSet(new URL(opts.jwksUri), {
      cooldownDuration: opts.jwksCooldownMs ?? 30_000,
      cacheMaxAge: opts.jwksMaxAgeMs ?? 600_000,
      timeoutDuration: 5000,
      [customFetch]: (url, init) => {
        opts.onJwksFetch?.();
        return fetch(url, init);
      },
    });
    this.cache = new VerifiedTokenCache(opts.cacheSize ?? 10_000, opts.cacheStats);
  }

  /** Whether the server's JWKS has been fetched (readiness). */
  get jwksLoaded(): boolean {
    return this.jwks.jwks() !== undefined;
  }

  /** Fetches the JWKS now rather than on the first token; a failure is left to the first token to report. */
  async prefetchJwks(): Promise<void> {
    await this.jwks.reload().catch(() => {});
  }

  /**
   * The verified entry of a token seen before and still unexpired, without
   * waiting for anything; undefined sends the caller to {@link check}.
   */
  cached(token: string): CachedToken | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    return this.cache.get(tokenCacheKey(token), Math.floor(this.opts.clock.nowMs() / 1000));
  }

  /** The token checked: from the cache when it was verified before, else by its signature and claims. */
  async verify(token: string): Promise<VerifyResult> {
    const hit = this.cached(token);
    return hit ? { ok: true, token: hit } : this.check(token);
  }

  /**
   * Checks a token {@link cached} did not answer for: its signature and
   * claims, once however many requests carry it at the same time.
   */
  check(token: string): Promise<VerifyResult> {
    if (token.length > MAX_TOKEN_LENGTH) return Promise.resolve({ ok: false, code: 'invalid_token', reason: 'the token is too long' });
    const key = tokenCacheKey(token);
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.verifySignature(token, key, this.opts.clock.nowMs()).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  /** Checks the token's signature and claims, and caches it when they hold. */
  private async verifySignature(token: string, key: string, nowMs: number): Promise<VerifyResult> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        algorithms: [SIGNING_ALG],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.opts.issuer,
        currentDate: new Date(nowMs),
        requiredClaims: REQUIRED_CLAIMS,
      }));
    } catch (err) {
      return refusal(err);
    }
    const parsed = accessTokenClaimsSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, code: 'invalid_token', reason: 'the token claims are malformed' };
    const claims = parsed.data;
    const entry: CachedToken = { claims, scopes: claims.scope === '' ? [] : claims.scope.split(' ') };
    this.cache.set(key, entry);
    return { ok: true, token: entry };
  }

  get cachedTokens(): number {
    return this.cache.size;
  }
}

// jose's errors carry the payload; only a fixed reason leaves here.
function refusal(err: unknown): VerifyResult {
  if (err instanceof errors.JWTExpired) return { ok: false, code: 'invalid_token', reason: 'the token has expired' };
  if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, code: 'invalid_token', reason: `the token's ${err.claim} claim is not acceptable` };
  if (err instanceof errors.JWKSNoMatchingKey) return { ok: false, code: 'invalid_token', reason: 'the token is signed with a key the server does not publish' };
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
    return { ok: false, code: 'jwks_unavailable', reason: 'the signing keys could not be fetched' };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, code: 'invalid_token', reason: 'the token signature does not verify' };
  return { ok: false, code: 'invalid_token', reason: 'the token is not a well-formed jitgate access token' };
}
