import { EmailSenderRateLimitView, OrdersRateLimitView, OutboxView } from './internal-api.schemas';

describe('internal API schemas', () => {
  it('accept what the apps answer and refuse a renamed field', () => {
    expect(
      OrdersRateLimitView.parse({
        resource: 'acs-email',
        paused: false,
        pausedUntil: null,
        source: null,
        updatedAt: null,
      }),
    ).toMatchObject({ paused: false });
    expect(
      OutboxView.safeParse({ unpublished: 0, oldestUnpublishedAt: null, oldestAgeMs: null, topics: [] })
        .success,
    ).toBe(true);
    expect(
      EmailSenderRateLimitView.safeParse({ paused: true, pausedUntil: null, inFlight: 0, waiting: 0 })
        .success,
    ).toBe(false);
  });
});
