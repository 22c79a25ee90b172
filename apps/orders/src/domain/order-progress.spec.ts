import { progressSnapshot, sameProgress, type OrderProgressInput } from './order-progress';

const readAt = new Date('2026-03-16T08:00:00.000Z');
const WINDOW_MS = 20_000;

function input(overrides: Partial<OrderProgressInput> = {}): OrderProgressInput {
  return {
    orderId: 'a1b2',
    orderStatus: 'Processed',
    claimedAt: new Date(readAt.getTime() - 60_000),
    readAt,
    counts: { Delivered: 30, Failed_Bounced: 10, Sending: 40, New: 20 },
    recentCounts: { Delivered: 30, Failed_Bounced: 10, Sending: 40 },
    ...overrides,
  };
}

describe(progressSnapshot.name, () => {
  it('counts total and final, and measures the rate of final notifications over the window', () => {
    const snapshot = progressSnapshot(input(), WINDOW_MS);
    expect(snapshot).toEqual({
      orderId: 'a1b2',
      orderStatus: 'Processed',
      total: 100,
      final: 40,
      counts: { Delivered: 30, Failed_Bounced: 10, Sending: 40, New: 20 },
      // 40 final within the last 20 s (pending ones that moved do not count).
      ratePerSecond: 2,
      // 60 left at 2/s.
      etaSeconds: 30,
      rateLimitPausedUntil: null,
      updatedAt: '2026-03-16T08:00:00.000Z',
    });
  });

  it('measures a young order over its age, not the whole window', () => {
    const snapshot = progressSnapshot(input({ claimedAt: new Date(readAt.getTime() - 5_000) }), WINDOW_MS);
    expect(snapshot.ratePerSecond).toBe(8);
    expect(snapshot.etaSeconds).toBe(8);
  });

  it('puts the remaining rate-limit pause before the remaining notifications', () => {
    const pausedUntil = new Date(readAt.getTime() + 90_000);
    const snapshot = progressSnapshot(input({ pausedUntil }), WINDOW_MS);
    expect(snapshot.rateLimitPausedUntil).toBe('2026-03-16T08:01:30.000Z');
    expect(snapshot.etaSeconds).toBe(90 + 30);
  });

  it('has no ETA while nothing became final recently, before notifications exist, or once the order is final', () => {
    expect(progressSnapshot(input({ recentCounts: { Sending: 3 } }), WINDOW_MS).etaSeconds).toBeNull();
    expect(progressSnapshot(input({ counts: {}, recentCounts: {} }), WINDOW_MS)).toMatchObject({
      total: 0,
      final: 0,
      ratePerSecond: 0,
      etaSeconds: null,
    });
    const completed = progressSnapshot(
      input({ orderStatus: 'Completed', counts: { Delivered: 100 }, recentCounts: { Delivered: 10 } }),
      WINDOW_MS,
    );
    expect(completed).toMatchObject({ final: 100, etaSeconds: null });
  });

  it('says 0 s when every notification is final and only the order has yet to complete', () => {
    const snapshot = progressSnapshot(input({ counts: { Delivered: 5 }, recentCounts: {} }), WINDOW_MS);
    expect(snapshot.etaSeconds).toBe(0);
  });
});

describe(sameProgress.name, () => {
  it('ignores when the snapshot was taken and the ETA, nothing else', () => {
    const a = progressSnapshot(input(), WINDOW_MS);
    const later = progressSnapshot(input({ readAt: new Date(readAt.getTime() + 1) }), WINDOW_MS);
    expect(sameProgress(a, later)).toBe(true);
    expect(
      sameProgress(a, progressSnapshot(input({ counts: { ...input().counts, New: 19 } }), WINDOW_MS)),
    ).toBe(false);
    expect(sameProgress(a, progressSnapshot(input({ orderStatus: 'Completed' }), WINDOW_MS))).toBe(false);
    expect(
      sameProgress(
        a,
        progressSnapshot(input({ pausedUntil: new Date(readAt.getTime() + 1_000) }), WINDOW_MS),
      ),
    ).toBe(false);
  });
});
