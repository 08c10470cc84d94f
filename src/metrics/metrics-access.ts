/**
 * Who may read `/metrics`. Metrics tell an outsider how busy the service is,
 * which routes exist and which clients fail, so they are not public by
 * default: without a token, only callers on the loopback interface that
 * came through no proxy (no `X-Forwarded-For`, `Forwarded` or `X-Real-IP`)
 * may read them; with a metrics token, any caller presenting it as a
 * Bearer token may, and nobody else.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Problem } from '../http/problem.js';
import { JitgateError } from '../util/errors.js';

/** Shortest metrics token accepted: guessing it must be out of reach. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

export type MetricsAccessResult = { ok: true } | { ok: false; problem: Problem };

export class MetricsAccess {
  private readonly digest: Buffer | null;

  /** `token`: the metrics token, or null/undefined for loopback-only access. */
  constructor(token: string | null | undefined) {
    if (token != null && token.length < MIN_METRICS_TOKEN_LENGTH) {
      throw new JitgateError('metrics_token_weak', `the metrics token must be at least ${MIN_METRICS_TOKEN_LENGTH} characters`);
    }
    this.digest = token == null ? null : sha256(token);
  }

  /** Whether a caller may read the metrics, from its socket address and headers. */
  check(remoteAddress: string | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): MetricsAccessResult {
    if (this.digest) {
      const m = typeof headers.authorization === 'string' ? /^Bearer +(\S+) *$/i.exec(headers.authorization) : null;
      if (m && timingSafeEqual(sha256(m[1]!), this.digest)) return { ok: true };
      return {
        ok: false,
        problem: new Problem(401, 'unauthorized', 'send the metrics token: Authorization: Bearer <token>', {
          headers: { 'www-authenticate': 'Bearer realm="jitgate-metrics"' },
        }),
      };
    }
    const proxied = headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined || headers['x-real-ip'] !== undefined;
    if (isLoopback(remoteAddress) && !proxied) return { ok: true };
    return {
      ok: false,
      problem: new Problem(403, 'forbidden', 'metrics are served to loopback callers only unless a metrics token is configured (JITGATE_METRICS_TOKEN)'),
    };
  }
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
