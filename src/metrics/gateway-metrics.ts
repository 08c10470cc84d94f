/**
 * The gateway's metrics (docs/operations.md). Per-request series are cells
 * bound once per resource and outcome; feed lag and connection state are
 * read from the feed at scrape time.
 */
import { Gauge, type Registry } from 'prom-client';
import { CounterFamily, HistogramFamily, type CounterCell, type HistogramCell } from './families.js';
import { newRegistry } from './registry.js';

/** The resource label of requests refused before a resource was chosen (feed stale, unknown host). */
export const NO_RESOURCE = 'none';

/** The cells of one resource. */
export interface ResourceCells {
  /** Requests by outcome: `forwarded` or the refusal's problem code. */
  outcome(code: string): CounterCell;
  duration: HistogramCell;
  upstream: HistogramCell;
}

export interface FeedState {
  /** Milliseconds since the feed last delivered anything while caught up; null if never. */
  ageMs(): number | null;
  connected(): boolean;
}

export class GatewayMetrics {
  readonly registry: Registry;
  readonly cacheHits: CounterCell;
  readonly cacheMisses: CounterCell;
  readonly jwksFetches: CounterCell;
  private readonly requests: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly upstream: HistogramFamily;
  private readonly resources = new Map<string, ResourceCells>();
  private feed: FeedState | null = null;

  constructor(registry: Registry = newRegistry()) {
    this.registry = registry;
    const r = registry;
    this.requests = new CounterFamily(r, 'jitgate_gateway_requests_total', 'Requests answered, by resource and outcome (forwarded, or the refusal code)', ['resource', 'outcome']);
    this.duration = new HistogramFamily(r, 'jitgate_gateway_request_duration_seconds', 'Whole requests, from arrival to the end of the answer, by resource', ['resource']);
    this.upstream = new HistogramFamily(r, 'jitgate_gateway_upstream_duration_seconds', 'The upstream part of forwarded requests, from sending to the end of the answer, by resource', ['resource']);
    const cache = new CounterFamily(r, 'jitgate_gateway_token_cache_total', 'Lookups in the verified-token cache, by result (hit, miss)', ['result']);
    this.cacheHits = cache.cell('hit');
    this.cacheMisses = cache.cell('miss');
    this.jwksFetches = new CounterFamily(r, 'jitgate_gateway_jwks_fetches_total', 'Fetches of the server JWKS (the first one, expiries and unknown key ids)', []).cell();
    const self = this;
    new Gauge({
      name: 'jitgate_gateway_revocation_feed_lag_seconds',
      help: 'Seconds since the revocation feed last delivered an event or keep-alive while caught up (+Inf before it first caught up)',
      registers: [r],
      collect() {
        const age = self.feed?.ageMs() ?? null;
        this.set(age === null ? Infinity : age / 1000);
      },
    });
    new Gauge({
      name: 'jitgate_gateway_revocation_feed_connected',
      help: '1 while the revocation feed is connected and caught up, else 0',
      registers: [r],
      collect() {
        this.set(self.feed?.connected() ? 1 : 0);
      },
    });
  }

  /** Where the feed gauges read from, once the feed exists. */
  watchFeed(feed: FeedState): void {
    this.feed = feed;
  }

  /** The cells of `resource` (an audience, or {@link NO_RESOURCE}); bound on first use. */
  resource(resource: string): ResourceCells {
    let cells = this.resources.get(resource);
    if (!cells) {
      const outcomes = new Map<string, CounterCell>();
      const requests = this.requests;
      cells = {
        outcome(code) {
          let c = outcomes.get(code);
          if (!c) outcomes.set(code, (c = requests.cell(resource, code)));
          return c;
        },
        duration: this.duration.cell(resource),
        upstream: this.upstream.cell(resource),
      };
      this.resources.set(resource, cells);
    }
    return cells;
  }
}
