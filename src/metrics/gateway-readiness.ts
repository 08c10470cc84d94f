/** What the gateway's `/readyz` checks (pure): keys fetched, feed connected and fresh, a policy with something to serve. */
import type { ReadinessCheck } from './readiness.js';

export interface GatewayReadinessFacts {
  /** The server's JWKS has been fetched at least once. */
  jwksLoaded: boolean;
  feedConnected: boolean;
  /** Milliseconds since the feed was last heard from while caught up; null if never. */
  feedAgeMs: number | null;
  feedMaxAgeMs: number;
  /** Resources the policy in force gives the gateway to serve. */
  resources: number;
}

export function gatewayReadiness(f: GatewayReadinessFacts): ReadinessCheck[] {
  const feed: ReadinessCheck =
    f.feedAgeMs === null
      ? { name: 'revocation_feed', ok: false, detail: 'not caught up yet' }
      : f.feedAgeMs > f.feedMaxAgeMs
        ? { name: 'revocation_feed', ok: false, detail: `last heard from ${Math.round(f.feedAgeMs)} ms ago, more than ${f.feedMaxAgeMs} ms` }
        : !f.feedConnected
          ? { name: 'revocation_feed', ok: false, detail: 'disconnected' }
          : { name: 'revocation_feed', ok: true };
  return [
    f.jwksLoaded ? { name: 'jwks', ok: true } : { name: 'jwks', ok: false, detail: 'the server signing keys have not been fetched yet' },
    feed,
    f.resources > 0 ? { name: 'policy', ok: true } : { name: 'policy', ok: false, detail: 'no resource to serve' },
  ];
}
