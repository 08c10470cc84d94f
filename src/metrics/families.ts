/**
 * Counters and histograms for hot paths. prom-client's labelled children
 * hash their label set on every `inc`/`observe`; these hand out a cell per
 * label set once (at start, or the first time a bounded label value is
 * seen), so counting a request is a field increment. They register in a
 * prom-client Registry like any metric, which renders them at scrape time.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

interface MetricValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric. */
interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] };
}

/** One label set of a counter. */
export class CounterCell {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** One label set of a histogram: counts per bucket (not cumulative), sum and count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

abstract class Family<C extends { labels: Labels }> implements Exposed {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly cells = new Map<string, C>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as never);
  }

  /** The cell of these label values (in `labelNames` order), created on first use. Bind it once, not per event. */
  cell(...values: string[]): C {
    const key = values.join('\u0000');
    let c = this.cells.get(key);
    if (!c) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      c = this.create(labels);
      this.cells.set(key, c);
    }
    return c;
  }

  protected abstract create(labels: Labels): C;
  protected abstract values(): MetricValue[];

  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}

export class CounterFamily extends Family<CounterCell> {
  readonly type = 'counter' as const;
  protected create(labels: Labels): CounterCell {
    return new CounterCell(labels);
  }
  protected values(): MetricValue[] {
    return [...this.cells.values()].map((c) => ({ labels: c.labels, value: c.value }));
  }
}

/** Seconds: from half a millisecond (a cached token check) to 10 s (a stuck upstream). */
export const LATENCY_BUCKETS_S: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class HistogramFamily extends Family<HistogramCell> {
  readonly type = 'histogram' as const;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[] = LATENCY_BUCKETS_S) {
    super(registry, name, help, labelNames);
  }
  protected create(labels: Labels): HistogramCell {
    return new HistogramCell(labels, this.bounds);
  }
  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += c.counts[i]!;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        out.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le }, value: acc });
      }
      out.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      out.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return out;
  }
}
