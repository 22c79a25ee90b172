/** Percentiles of what a histogram recorded; null while it is empty. */
export interface HistogramSummary {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly meanMs: number | null;
}

// Log-spaced latency buckets (each 4 % wider than the last) from 0.1 ms to ~28 h: constant memory however many
// values are recorded, percentiles within 4 %.
const GROWTH = 1.04;
const MIN = 0.1;
const LOG_GROWTH = Math.log(GROWTH);
const LATENCY_BUCKETS = Math.ceil(Math.log(1e8 / MIN) / LOG_GROWTH) + 1;

/**
 * The one histogram of the house: counts per bucket with fixed memory, its sum, count and maximum, and
 * percentiles read as the upper bound of the bucket they fall in (capped at the maximum seen). Two bucket
 * layouts: `Histogram.latency()` (log-spaced, for in-process percentiles: `/stats`, `$status`, benchmarks) and
 * `Histogram.withBounds(bounds)` (the fixed bounds of a Prometheus histogram, see `BucketHistogram`). Negative
 * values (a clock step, a check started before its due time) count as 0 and are counted in `negatives`.
 */
export class Histogram {
  private readonly counts: Float64Array;
  private total = 0;
  private sumOfValues = 0;
  private maxValue = 0;
  private negativeValues = 0;

  private constructor(
    /** Upper bounds (inclusive) of every bucket but the last, which takes everything above. */
    private readonly upperBound: (index: number) => number,
    private readonly indexOf: (value: number) => number,
    buckets: number,
  ) {
    this.counts = new Float64Array(buckets);
  }

  static latency(): Histogram {
    return new Histogram(
      (index) => MIN * GROWTH ** index,
      (value) =>
        value <= MIN ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(value / MIN) / LOG_GROWTH)),
      LATENCY_BUCKETS,
    );
  }

  static withBounds(bounds: readonly number[]): Histogram {
    const sorted = [...bounds].sort((a, b) => a - b);
    const last = sorted.length;
    return new Histogram(
      (index) => sorted[index] ?? Number.POSITIVE_INFINITY,
      (value) => {
        // A linear search: Prometheus histograms have a dozen bounds, and small values (the common case) stop early.
        let index = 0;
        while (index < last && value > (sorted[index] as number)) index += 1;
        return index;
      },
      last + 1,
    );
  }

  record(value: number): void {
    if (value < 0) this.negativeValues += 1;
    const clamped = value < 0 ? 0 : value;
    const index = this.indexOf(clamped);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    this.sumOfValues += clamped;
    if (clamped > this.maxValue) this.maxValue = clamped;
  }

  get count(): number {
    return this.total;
  }

  get sum(): number {
    return this.sumOfValues;
  }

  get negatives(): number {
    return this.negativeValues;
  }

  /** How many values fell at or below each bound of `withBounds` (Prometheus' cumulative `le` buckets). */
  cumulativeCounts(): number[] {
    const cumulative: number[] = [];
    let seen = 0;
    for (let index = 0; index < this.counts.length - 1; index += 1) {
      seen += this.counts[index] ?? 0;
      cumulative.push(seen);
    }
    return cumulative;
  }

  /** The upper bound of the bucket holding the q-quantile (0 < q ≤ 1), capped at the largest value seen. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < this.counts.length; index += 1) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(this.maxValue, this.upperBound(index));
    }
    return this.maxValue;
  }

  /** Percentiles, maximum and mean, rounded to 0.1. */
  summary(): HistogramSummary {
    const round = (value: number | null): number | null =>
      value === null ? null : Math.round(value * 10) / 10;
    const empty = this.total === 0;
    return {
      count: this.total,
      p50Ms: round(this.quantile(0.5)),
      p90Ms: round(this.quantile(0.9)),
      p99Ms: round(this.quantile(0.99)),
      maxMs: empty ? null : round(this.maxValue),
      meanMs: empty ? null : round(this.sumOfValues / this.total),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumOfValues = 0;
    this.maxValue = 0;
    this.negativeValues = 0;
  }
}
