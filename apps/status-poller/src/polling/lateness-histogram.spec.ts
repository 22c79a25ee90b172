import { LatenessHistogram } from './lateness-histogram';

describe(LatenessHistogram.name, () => {
  it('summarises percentiles within bucket resolution', () => {
    const histogram = new LatenessHistogram();
    for (let ms = 1; ms <= 100; ms += 1) histogram.record(ms * 10);
    const summary = histogram.summary();
    expect(summary.count).toBe(100);
    expect(summary.p50Ms).toBe(501);
    expect(summary.p99Ms).toBe(991);
    expect(summary.maxMs).toBe(1000);
    expect(summary.meanMs).toBe(505);
  });

  it('counts early checks and keeps very late ones in the last bucket', () => {
    const histogram = new LatenessHistogram();
    histogram.record(-5);
    histogram.record(15_004);
    histogram.record(3_600_000);
    const summary = histogram.summary();
    expect(summary).toMatchObject({ count: 3, early: 1, maxMs: 3_600_000 });
    expect(histogram.percentile(0.5)).toBe(15_010);
    expect(histogram.percentile(1)).toBe(3_600_000);
    histogram.reset();
    expect(histogram.summary().count).toBe(0);
  });
});
