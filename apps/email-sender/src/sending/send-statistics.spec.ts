import { SendStatistics } from './send-statistics';

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
