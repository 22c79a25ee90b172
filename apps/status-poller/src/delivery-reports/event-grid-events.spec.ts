import { resultForDeliveryStatus } from './delivery-report-status';
import {
  EventTypes,
  MalformedDeliveryError,
  parseEventGridDelivery,
  TooManyEventsError,
} from './event-grid-events';

function report(data: unknown): Record<string, unknown> {
  return {
    id: 'e1',
    eventType: EventTypes.emailDeliveryReport,
    subject: 's',
    eventTime: '2026-03-16T08:00:00Z',
    data,
  };
}

function problemsOf(body: string): readonly string[] {
  try {
    parseEventGridDelivery(body);
  } catch (error) {
    if (error instanceof MalformedDeliveryError) return error.problems;
    throw error;
  }
  throw new Error('expected a MalformedDeliveryError');
}

describe(parseEventGridDelivery.name, () => {
  it('recognises the subscription validation handshake', () => {
    const body = JSON.stringify([
      {
        id: 'v',
        eventType: EventTypes.subscriptionValidation,
        data: { validationCode: 'code-1', validationUrl: 'x' },
      },
    ]);
    expect(parseEventGridDelivery(body)).toEqual({ kind: 'validation', validationCode: 'code-1' });
  });

  it('reads delivery reports (Event Grid and CloudEvents schema) and keeps other event types apart', () => {
    const body = JSON.stringify([
      report({
        sender: 'noreply@example.org',
        recipient: 'a@example.org',
        messageId: ' op-1 ',
        status: 'Delivered',
        deliveryStatusDetails: { statusMessage: 'ok' },
        deliveryAttemptTimeStamp: '2026-03-16T08:00:00Z',
        extra: true,
      }),
      {
        id: 'c',
        type: EventTypes.emailDeliveryReport,
        source: '/subscriptions/s/acs',
        specversion: '1.0',
        data: { messageId: 'op-2', status: 'Bounced' },
      },
      {
        id: 'x',
        topic: ' /subscriptions/t/acs ',
        eventType: 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
        data: {},
      },
    ]);
    expect(parseEventGridDelivery(body)).toEqual({
      kind: 'events',
      events: [
        {
          kind: 'delivery-report',
          id: 'e1',
          messageId: 'op-1',
          status: 'Delivered',
          recipient: 'a@example.org',
          statusMessage: 'ok',
        },
        {
          kind: 'delivery-report',
          id: 'c',
          source: '/subscriptions/s/acs',
          messageId: 'op-2',
          status: 'Bounced',
        },
        {
          kind: 'other',
          eventType: 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
          source: '/subscriptions/t/acs',
        },
      ],
    });
    expect(
      parseEventGridDelivery(JSON.stringify(report({ messageId: 'op', status: 'Failed' }))),
    ).toMatchObject({
      kind: 'events',
      events: [{ messageId: 'op' }],
    });
  });

  it('refuses more events than the limit before reading any of them', () => {
    const three = JSON.stringify([report({}), report({}), report({})]);
    expect(() => parseEventGridDelivery(three, 2)).toThrow(TooManyEventsError);
    expect(() => parseEventGridDelivery(three, 2)).toThrow('3 events in one delivery; at most 2');
    expect(() => parseEventGridDelivery(three, 3)).toThrow(MalformedDeliveryError);
  });

  it('names every malformed part', () => {
    expect(problemsOf('')).toEqual(['empty body: expected a JSON array of Event Grid events']);
    expect(problemsOf('[{"eventType":')[0]).toMatch(/^not valid JSON: /);
    expect(problemsOf('42')).toEqual(['expected a JSON array of Event Grid events, got number']);
    expect(
      problemsOf(
        JSON.stringify([
          'x',
          { data: {} },
          report(null),
          report({ messageId: '', status: 3 }),
          { eventType: EventTypes.subscriptionValidation, data: {} },
        ]),
      ),
    ).toEqual([
      '[0]: expected an event object',
      '[1].eventType: required (a non-empty string)',
      '[2].data: required (an object)',
      '[3].data.messageId: required (a non-empty string)',
      '[3].data.status: required (a non-empty string)',
      '[4].data.validationCode: required (a non-empty string)',
    ]);
  });
});

describe(resultForDeliveryStatus.name, () => {
  it.each([
    ['Delivered', 'Delivered'],
    ['Bounced', 'Failed_Bounced'],
    ['Suppressed', 'Failed_SupressedRecipient'],
    ['FilteredSpam', 'Failed_FilteredSpam'],
    ['Quarantined', 'Failed_Quarantined'],
    ['Failed', 'Failed'],
    ['Expanded', 'Failed'],
    ['delivered', 'Delivered'],
  ])('maps %s to %s (SPEC section 4)', (status, result) => {
    expect(resultForDeliveryStatus(status)).toBe(result);
  });

  it('knows no other status', () => {
    expect(resultForDeliveryStatus('OutForDelivery')).toBeUndefined();
  });
});
