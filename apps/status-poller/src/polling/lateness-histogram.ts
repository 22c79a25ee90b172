export interface LatenessSummary {
  readonly count: number;
  /** Checks that started before their due time (never expected; counted to be watched). */
  readonly early: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * How late checks start behind their due time, in fixed buckets (bounded memory whatever the volume): 1 ms wide
 * up to 2 s, 10 ms up to 20 s, then 1 s up to 10 min; later values land in the last bucket. Percentiles are the
 * upper bound of the bucket they fall in.
 */
export class LatenessHistogram {
  private static readonly FINE_LIMIT_MS = 2_000;
  private static readonly MEDIUM_LIMIT_MS = 20_000;
  private static readonly COARSE_LIMIT_MS = 600_000;
  private readonly buckets: number[];
  private count = 0;
  private early = 0;
  private sumMs = 0;
  private maxMs = 0;

  constructor() {
    const { FINE_LIMIT_MS, MEDIUM_LIMIT_MS, COARSE_LIMIT_MS } = LatenessHistogram;
    const size =
      FINE_LIMIT_MS + (MEDIUM_LIMIT_MS - FINE_LIMIT_MS) / 10 + (COARSE_LIMIT_MS - MEDIUM_LIMIT_MS) / 1000 + 1;
    this.buckets = new Array<number>(size).fill(0);
  }

  record(latenessMs: number): void {
    if (latenessMs < 0) this.early += 1;
    const value = Math.max(0, latenessMs);
    this.count += 1;
    this.sumMs += value;
    this.maxMs = Math.max(this.maxMs, value);
    const index = LatenessHistogram.bucketOf(value);
    this.buckets[index] = (this.buckets[index] ?? 0) + 1;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.early = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }

  summary(): LatenessSummary {
    return {
      count: this.count,
      early: this.early,
      p50Ms: this.percentile(0.5),
      p90Ms: this.percentile(0.9),
      p99Ms: this.percentile(0.99),
      maxMs: Math.round(this.maxMs),
      meanMs: this.count === 0 ? 0 : Math.round((this.sumMs / this.count) * 10) / 10,
    };
  }

  percentile(fraction: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.count));
    let seen = 0;
    for (let index = 0; index < this.buckets.length; index += 1) {
      seen += this.buckets[index] ?? 0;
      if (seen >= rank) {
        // The last bucket is open-ended: its only meaningful bound is the maximum.
        if (index === this.buckets.length - 1) return Math.round(this.maxMs);
        return Math.min(LatenessHistogram.upperBoundOf(index), Math.round(this.maxMs));
      }
    }
    return Math.round(this.maxMs);
  }

  private static bucketOf(value: number): number {
    const { FINE_LIMIT_MS, MEDIUM_LIMIT_MS, COARSE_LIMIT_MS } = LatenessHistogram;
    if (value < FINE_LIMIT_MS) return Math.floor(value);
    if (value < MEDIUM_LIMIT_MS) return FINE_LIMIT_MS + Math.floor((value - FINE_LIMIT_MS) / 10);
    const mediumBuckets = (MEDIUM_LIMIT_MS - FINE_LIMIT_MS) / 10;
    if (value < COARSE_LIMIT_MS)
      return FINE_LIMIT_MS + mediumBuckets + Math.floor((value - MEDIUM_LIMIT_MS) / 1000);
    return FINE_LIMIT_MS + mediumBuckets + (COARSE_LIMIT_MS - MEDIUM_LIMIT_MS) / 1000;
  }

  private static upperBoundOf(index: number): number {
    const { FINE_LIMIT_MS, MEDIUM_LIMIT_MS } = LatenessHistogram;
    const mediumBuckets = (MEDIUM_LIMIT_MS - FINE_LIMIT_MS) / 10;
    if (index < FINE_LIMIT_MS) return index + 1;
    if (index < FINE_LIMIT_MS + mediumBuckets) return FINE_LIMIT_MS + (index - FINE_LIMIT_MS + 1) * 10;
    return MEDIUM_LIMIT_MS + (index - FINE_LIMIT_MS - mediumBuckets + 1) * 1000;
  }
}
