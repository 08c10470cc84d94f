/**
 * The gateway's own access token for reading the revocation feed:
 * client_credentials for `jitgate:gateway`, fetched when first needed and
 * again shortly before it expires (client_credentials tokens are not
 * refreshable; a new one is simply asked for).
 */
import { request } from 'undici';
import type { Clock } from '../util/clock.js';
import { JitgateError } from '../util/errors.js';
import { GATEWAY_SCOPE } from '../revocations/entry.js';

export interface ServiceTokenOptions {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  clock: Clock;
  /** A token this close to its expiry is replaced, seconds. Default 30. */
  renewBeforeS?: number;
}

export class ServiceToken {
  private token: { value: string; exp: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(private readonly opts: ServiceTokenOptions) {}

  /** A token valid for a while yet; concurrent callers share one request. */
  get(): Promise<string> {
    const now = Math.floor(this.opts.clock.nowMs() / 1000);
    if (this.token && this.token.exp - (this.opts.renewBeforeS ?? 30) > now) return Promise.resolve(this.token.value);
    this.pending ??= this.fetch().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forget the token (the server refused it). */
  invalidate(): void {
    this.token = null;
  }

  /** Seconds until the current token expires, or null without one. */
  expiresAt(): number | null {
    return this.token?.exp ?? null;
  }

  private async fetch(): Promise<string> {
    const credentials = Buffer.from(`${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(this.opts.clientSecret)}`).toString('base64');
    const res = await request(this.opts.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${credentials}`, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: GATEWAY_SCOPE }).toString(),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await res.body.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below
    }
    if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error : `HTTP ${res.statusCode}`;
      const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
      throw new JitgateError('gateway_credentials_refused', `the server refused the gateway's client credentials (${error}${description})`);
    }
    const now = Math.floor(this.opts.clock.nowMs() / 1000);
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 60;
    this.token = { value: body.access_token, exp: now + expiresIn };
    return body.access_token;
  }
}
