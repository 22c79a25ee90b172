import { type Metric, type Registry } from 'prom-client';
import { Histogram } from './histogram';

interface ExportedValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** What prom-client's registry reads from a metric's `get()` (its own typings say `type` is an enum; it is not). */
interface ExportedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly values: readonly ExportedValue[];
  readonly aggregator: 'sum';
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface SeriesState {
  readonly labels: Readonly<Record<string, string>>;
  readonly histogram: Histogram;
}

/**
 * A Prometheus histogram for the per-message hot path: a series is bound to its labels once (`series(labels)`),
 * and `observe` is a bucket search plus two additions (the house's one `Histogram`, with these bounds) — about
 * twenty times cheaper than prom-client's Histogram, which hashes the labels on every call. Exposed through the
 * registry like any prom-client metric.
 */
export class BucketHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: readonly number[];
  private readonly all = new Map<string, SeriesState>();

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    // The registry only calls get()/reset() and reads name/help/type: this class speaks that protocol.
    registry.registerMetric(this as unknown as Metric);
  }

  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const key = JSON.stringify(labels);
    let state = this.all.get(key);
    if (state === undefined) {
      state = { labels: { ...labels }, histogram: Histogram.withBounds(this.bounds) };
      this.all.set(key, state);
    }
    const { histogram } = state;
    return { observe: (value: number): void => histogram.record(value) };
  }

  get(): Promise<ExportedHistogram> {
    const values: ExportedValue[] = [];
    for (const { labels, histogram } of this.all.values()) {
      const { count, sum } = histogram;
      const cumulative = histogram.cumulativeCounts();
      this.bounds.forEach((bound, index) => {
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...labels, le: bound },
          value: cumulative[index] ?? 0,
        });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    this.all.clear();
  }
}
