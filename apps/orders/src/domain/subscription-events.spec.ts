import { createHmac, createSecretKey } from 'node:crypto';
import {
  defaultPayload,
  destinationLabel,
  failureReason,
  renderPayload,
  renderTopic,
  retryDelayMs,
  signedHeaders,
  type SubscriptionEvent,
} from './subscription-events';

const statusEvent: SubscriptionEvent = {
  id: '7',
  eventId: '0b0f4c9e-8f55-4a43-9d3a-1a1f0c7e2b11',
  subscriptionId: '5c6d1f2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
  type: 'notification.status',
  orderId: 'a3e1c2b4-1111-4222-8333-444455556666',
  sendersReference: 'tax-2026',
  notificationId: 'f1e2d3c4-aaaa-4bbb-8ccc-ddddeeeeffff',
  recipientEmail: 'ola.nordmann@example.com',
  status: 'Delivered',
  statusTime: new Date('2026-03-16T08:00:01.250Z'),
};

const completedEvent: SubscriptionEvent = {
  ...statusEvent,
  type: 'order.completed',
  notificationId: null,
  recipientEmail: null,
  status: 'Completed',
};

describe('subscription events', () => {
  it('renders the default payload of a status change, with the status description', () => {
    expect(defaultPayload(statusEvent)).toEqual({
      eventId: statusEvent.eventId,
      subscriptionId: statusEvent.subscriptionId,
      type: 'notification.status',
      orderId: statusEvent.orderId,
      sendersReference: 'tax-2026',
      notificationId: statusEvent.notificationId,
      channel: 'Email',
      recipient: { emailAddress: 'ola.nordmann@example.com' },
      status: 'Delivered',
      description:
        'The email was delivered to the recipient. No errors reported, making it likely it was received.',
      lastUpdate: '2026-03-16T08:00:01.250Z',
    });
  });

  it('renders order.completed without notification or recipient, described by the order status', () => {
    expect(defaultPayload(completedEvent)).toMatchObject({
      type: 'order.completed',
      notificationId: null,
      recipient: null,
      status: 'Completed',
      description: 'Order processing is completed. All notifications have reached a final status.',
    });
  });

  it('replaces macros inside the strings of a JSON template, so that JSON escaping is automatic', () => {
    const awkward = { ...statusEvent, sendersReference: 'say "hi"\nnow \\ ${orderId}' };
    const rendered = renderPayload(awkward, {
      payload: {
        text: 'order ${orderId}: ${status} for ${recipient} at ${lastUpdate}',
        ref: '${sendersReference}',
        list: ['${notificationId}', 3, null, true],
        '${status}': 'keys stay as written; ${unknown} too',
      },
    });
    expect(rendered.contentType).toBe('application/json');
    expect(JSON.parse(rendered.body)).toEqual({
      text: `order ${statusEvent.orderId}: Delivered for ola.nordmann@example.com at 2026-03-16T08:00:01.250Z`,
      // A value that itself looks like a macro is not expanded again.
      ref: 'say "hi"\nnow \\ ${orderId}',
      list: [statusEvent.notificationId, 3, null, true],
      '${status}': 'keys stay as written; ${unknown} too',
    });
  });

  it('renders a JSON template that is not an object (array, number)', () => {
    expect(renderPayload(statusEvent, { payload: ['${status}'] }).body).toBe('["Delivered"]');
    expect(renderPayload(statusEvent, { payload: 42 }).body).toBe('42');
  });

  it('substitutes a string template as plain text; absent values are empty', () => {
    expect(renderPayload(completedEvent, { payload: '${orderId} ${status} [${notificationId}]' })).toEqual({
      body: `${statusEvent.orderId} Completed []`,
      contentType: 'text/plain; charset=utf-8',
    });
  });

  it('renders a topic template with its macros, and falls back to the destination topic when the result is no topic', () => {
    expect(renderTopic(statusEvent, 'base', { topic: 'events.${status}' })).toBe('events.Delivered');
    expect(renderTopic(statusEvent, 'base', { topic: 'n-${notificationId}' })).toBe(
      `n-${statusEvent.notificationId}`,
    );
    expect(renderTopic(completedEvent, 'base', { topic: '${notificationId}' })).toBe('base');
    expect(renderTopic(statusEvent, 'base', { topic: 'x-${recipient}' })).toBe('base');
    expect(renderTopic(statusEvent, 'base', null)).toBe('base');
  });

  it('signs timestamp + body with HMAC-SHA256, the same under a KeyObject and the raw secret', () => {
    const secret = 'whsec_test-secret';
    const body = JSON.stringify(defaultPayload(statusEvent));
    const now = new Date('2026-03-16T08:00:05.900Z');
    const headers = signedHeaders(createSecretKey(Buffer.from(secret)), [statusEvent], body, now);
    const expected = createHmac('sha256', secret).update(`1773648005.${body}`).digest('hex');
    expect(headers).toEqual({
      'x-notifications-event-id': statusEvent.eventId,
      'x-notifications-event-type': 'notification.status',
      'x-notifications-timestamp': '1773648005',
      'x-notifications-signature': `v1=${expected}`,
    });
    expect(signedHeaders(secret, [statusEvent], body, now)).toEqual(headers);
    expect(
      signedHeaders(secret, [statusEvent, completedEvent], `[${body}]`, now)['x-notifications-event-count'],
    ).toBe('2');
  });

  it('labels destinations without path, query, credentials or secrets', () => {
    expect(
      destinationLabel({
        http: { url: 'https://hooks.example.no:8443/notify?token=s3cret', maxEventsPerRequest: 1 },
      }),
    ).toBe('http:hooks.example.no:8443');
    expect(
      destinationLabel({
        kafka: {
          url: 'kafka://b1.example.no:9092,b2.example.no:9092',
          topic: 'notify-events',
          sasl: { mechanism: 'plain', username: 'u', password: 'p' },
        },
      }),
    ).toBe('kafka:b1.example.no:9092/notify-events');
  });

  it('keeps failure reasons to one line of at most 500 characters, without email addresses', () => {
    expect(failureReason('HTTP 400 from h:\nbad address ola.nordmann@example.com')).toBe(
      'HTTP 400 from h: bad address <address>',
    );
    expect(failureReason('x'.repeat(600))).toHaveLength(500);
  });

  it('doubles the back-off per consecutive failure up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 100].map((fails) => retryDelayMs(fails, 1_000, 10_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });
});
