import { LatencyHistogram, SendStatistics } from './send-statistics';

describe(LatencyHistogram.name, () => {
  it('reports percentiles within a few percent', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 1_000; ms += 1) histogram.record(ms);
    const summary = histogram.summary();
    expect(summary.count).toBe(1_000);
    expect(summary.p50Ms).toBeGreaterThanOrEqual(500);
    expect(summary.p50Ms).toBeLessThanOrEqual(520);
    expect(summary.p99Ms).toBeGreaterThanOrEqual(990);
    expect(summary.p99Ms).toBeLessThanOrEqual(1_000);
    expect(summary.maxMs).toBe(1_000);
  });

  it('is empty before the first value', () => {
    expect(new LatencyHistogram().summary()).toEqual({
      count: 0,
      p50Ms: null,
      p90Ms: null,
      p99Ms: null,
      maxMs: null,
    });
  });
});

describe(SendStatistics.name, () => {
  it('counts outcomes and published results', () => {
    const stats = new SendStatistics();
    stats.accepted(12);
    stats.outcome('rejected', 'HTTP 400');
    stats.resultPublished('Failed');
    stats.outcome('retryScheduled', 'HTTP 503');
    const snapshot = stats.snapshot();
    expect(snapshot.outcomes).toMatchObject({ accepted: 1, rejected: 1, retryScheduled: 1, gaveUp: 0 });
    expect(snapshot.results).toEqual({ Failed: 1 });
    expect(snapshot.consumeToAccepted.count).toBe(1);
    expect(snapshot.lastError).toMatchObject({ reason: 'HTTP 503' });

    stats.reset();
    expect(stats.snapshot()).toMatchObject({
      outcomes: { accepted: 0, rejected: 0, retryScheduled: 0 },
      results: {},
      consumeToAccepted: { count: 0 },
      lastError: null,
    });
  });
});
