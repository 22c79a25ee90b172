import { NotificationOrderContract } from '@notifications/contracts';
import { type ClaimedOrder } from './order.model';
import { toNotificationOrder } from './notification-order.mapper';

const order: ClaimedOrder = {
  id: '0e6f1a52-8d3c-4b7e-a1f9-3c2d5e4b6a70',
  creator: 'skd',
  sendersReference: 'tax-2025-batch-7',
  requestedSendTime: new Date('2026-03-16T08:00:00Z'),
  created: new Date('2026-03-15T12:30:00.559Z'),
  ignoreReservation: false,
  resourceId: 'urn:altinn:resource:tax-return',
  email: {
    fromAddress: 'noreply@altinn.cloud',
    subject: 'Tax return 2025',
    body: 'Hello $recipientName$, your tax return is ready.',
    contentType: 'Plain',
  },
  recipientCount: 2,
  recipients: [{ emailAddress: 'ola.nordmann@example.com' }, { organizationNumber: '311000179' }],
};

describe(toNotificationOrder.name, () => {
  it('writes the reference\'s NotificationOrder ("$" first, nulls omitted)', () => {
    expect(NotificationOrderContract.serialize(toNotificationOrder(order))).toBe(
      '{"id":"0e6f1a52-8d3c-4b7e-a1f9-3c2d5e4b6a70","sendersReference":"tax-2025-batch-7",' +
        '"requestedSendTime":"2026-03-16T08:00:00.000Z","notificationChannel":"Email","ignoreReservation":false,' +
        '"resourceId":"urn:altinn:resource:tax-return","creator":{"shortName":"skd"},' +
        '"created":"2026-03-15T12:30:00.559Z","type":"Notification","templates":[{"$":"email",' +
        '"body":"Hello $recipientName$, your tax return is ready.","contentType":"Plain",' +
        '"fromAddress":"noreply@altinn.cloud","subject":"Tax return 2025","type":"Email"}],' +
        '"recipients":[{"addressInfo":[{"$":"email","addressType":"Email","emailAddress":"ola.nordmann@example.com"}]},' +
        '{"addressInfo":[],"organizationNumber":"311000179"}]}',
    );
  });

  it('leaves the recipients out of large orders (the consumer reads them from the database)', () => {
    const { recipients: _recipients, ...large } = order;
    expect(toNotificationOrder({ ...large, recipientCount: 100_000 }).recipients).toEqual([]);
    expect(toNotificationOrder(order, false).recipients).toEqual([]);
  });
});
