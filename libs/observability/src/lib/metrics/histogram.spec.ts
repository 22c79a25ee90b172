import { Histogram } from './histogram';

describe(Histogram.name, () => {
  it('reports latency percentiles within a few percent', () => {
    const histogram = Histogram.latency();
    for (let ms = 1; ms <= 1_000; ms += 1) histogram.record(ms);
    const summary = histogram.summary();
    expect(summary.count).toBe(1_000);
    expect(summary.p50Ms).toBeGreaterThanOrEqual(500);
    expect(summary.p50Ms).toBeLessThanOrEqual(520);
    expect(summary.p99Ms).toBeGreaterThanOrEqual(990);
    expect(summary.p99Ms).toBeLessThanOrEqual(1_000);
    expect(summary.maxMs).toBe(1_000);
    expect(summary.meanMs).toBe(500.5);
  });

  it('is empty before the first value and after a reset', () => {
    const empty = { count: 0, p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null, meanMs: null };
    const histogram = Histogram.latency();
    expect(histogram.summary()).toEqual(empty);
    histogram.record(-5);
    histogram.record(3_600_000);
    expect(histogram.negatives).toBe(1);
    expect(histogram.quantile(1)).toBe(3_600_000);
    histogram.reset();
    expect(histogram.summary()).toEqual(empty);
    expect(histogram.negatives).toBe(0);
  });

  it('counts values at or below each fixed bound (Prometheus le buckets), the rest above the last', () => {
    const histogram = Histogram.withBounds([10, 1, 100]);
    for (const value of [0.5, 1, 2, 10, 50, 1_000]) histogram.record(value);
    expect(histogram.cumulativeCounts()).toEqual([2, 4, 5]);
    expect(histogram.count).toBe(6);
    expect(histogram.sum).toBe(1_063.5);
    expect(histogram.quantile(0.5)).toBe(10);
    expect(histogram.quantile(1)).toBe(1_000);
  });
});
