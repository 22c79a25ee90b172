import {
  EmailSenderRateLimitView,
  OperatorOrderPage,
  OperatorOrderView,
  operatorOrderPath,
  OrdersRateLimitView,
  OutboxView,
} from './internal-api.schemas';

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

  it("describe the operators' orders: a page of summaries, one order with its halt", () => {
    const summary = {
      id: '0b5b3c1e-6d2f-4c55-9a57-7d1c2b0e9f10',
      creator: 'ttd',
      requestedSendTime: '2026-01-01T00:00:00.000Z',
      created: '2026-01-01T00:00:00.000Z',
      recipientCount: 2,
      processingStatus: 'Processing',
      statusChanged: '2026-01-01T00:00:01.000Z',
    };
    expect(OperatorOrderPage.parse({ orders: [summary] }).orders).toHaveLength(1);
    const { recipientCount: _recipients, ...order } = summary;
    const halted = { at: '2026-01-01T00:00:02.000Z', sent: 1, withheld: 1, inFlight: 0 };
    expect(
      OperatorOrderView.parse({ ...order, subject: 's', generated: 2, succeeded: 1, halted }).halted,
    ).toEqual(halted);
    // A status orders does not have is refused rather than shown.
    expect(
      OperatorOrderPage.safeParse({ orders: [{ ...summary, processingStatus: 'Halted' }] }).success,
    ).toBe(false);
    expect(operatorOrderPath('a/b', '/halt')).toBe('/notifications/api/v1/internal/orders/a%2Fb/halt');
  });
});
