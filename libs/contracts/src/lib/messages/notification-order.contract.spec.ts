import { violatedPaths, violationOf } from '../../../test/violation';
import { type NotificationOrder, NotificationOrderContract } from './notification-order.contract';

const order: NotificationOrder = {
  id: '0e6f1a52-8d3c-4b7e-a1f9-3c2d5e4b6a70',
  sendersReference: 'ref-1',
  requestedSendTime: '2026-03-16T08:00:00Z',
  notificationChannel: 'Email',
  ignoreReservation: false,
  resourceId: 'urn:altinn:resource:tax-return',
  conditionEndpoint: 'https://example.com/condition',
  creator: { shortName: 'skd' },
  created: '2026-03-15T12:30:00.5591909Z',
  sendingTimePolicy: 'Daytime',
  type: 'Notification',
  templates: [
    {
      $: 'email',
      body: 'Body',
      contentType: 'Html',
      fromAddress: 'noreply@altinn.cloud',
      subject: 'S',
      type: 'Email',
    },
    { $: 'sms', body: 'Sms body', senderNumber: 'Altinn', type: 'Sms' },
  ],
  recipients: [
    {
      addressInfo: [
        { $: 'email', addressType: 'Email', emailAddress: 'ola@example.com' },
        { $: 'sms', addressType: 'Sms', mobileNumber: '+4799999999' },
      ],
      isReserved: true,
      nationalIdentityNumber: '11876995923',
    },
    { addressInfo: [], organizationNumber: '311000179' },
  ],
};

function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: order.id,
    requestedSendTime: order.requestedSendTime,
    notificationChannel: 'Email',
    creator: { shortName: 'skd' },
    created: order.created,
    type: 'Notification',
    templates: [],
    recipients: [],
    ...overrides,
  };
}

describe(NotificationOrderContract.name, () => {
  it('round-trips every optional field and both template and address kinds', () => {
    expect(NotificationOrderContract.parse(NotificationOrderContract.serialize(order))).toEqual(order);
  });

  it('writes properties in the SPEC order', () => {
    expect(Object.keys(JSON.parse(NotificationOrderContract.serialize(order)) as object)).toEqual([
      'id',
      'sendersReference',
      'requestedSendTime',
      'notificationChannel',
      'ignoreReservation',
      'resourceId',
      'conditionEndpoint',
      'creator',
      'created',
      'sendingTimePolicy',
      'type',
      'templates',
      'recipients',
    ]);
  });

  it('writes "$" as the first property of templates and address points, whatever the input order', () => {
    const input = minimal({
      templates: [
        { body: 'B', contentType: 'Plain', fromAddress: 'f', subject: 'S', type: 'Email', $: 'email' },
      ],
      recipients: [{ addressInfo: [{ emailAddress: 'a@example.com', addressType: 'Email', $: 'email' }] }],
    });

    const written = NotificationOrderContract.serialize(NotificationOrderContract.validate(input));

    expect(written).toContain(
      '"templates":[{"$":"email","body":"B","contentType":"Plain","fromAddress":"f","subject":"S","type":"Email"}]',
    );
    expect(written).toContain(
      '"addressInfo":[{"$":"email","addressType":"Email","emailAddress":"a@example.com"}]',
    );
  });

  it('omits null and absent optional properties on output', () => {
    const parsed = NotificationOrderContract.validate(
      minimal({ sendersReference: null, resourceId: null, sendingTimePolicy: null, ignoreReservation: null }),
    );
    const written = NotificationOrderContract.serialize(parsed);

    expect(written).not.toContain('null');
    expect(written).not.toContain('sendersReference');
    expect(written).not.toContain('sendingTimePolicy');
    expect(JSON.parse(written)).toEqual(minimal());
  });

  it('keeps all 7 fractional digits of a timestamp', () => {
    const written = NotificationOrderContract.serialize(NotificationOrderContract.validate(minimal()));

    expect(written).toContain('"created":"2026-03-15T12:30:00.5591909Z"');
  });

  it('rejects a timestamp without zone', () => {
    expect(
      violatedPaths(() =>
        NotificationOrderContract.validate(minimal({ requestedSendTime: '2026-03-16T08:00:00' })),
      ),
    ).toEqual(['requestedSendTime']);
  });

  it('reads PascalCase input, nested objects included, and writes camelCase', () => {
    const pascal = {
      Id: order.id.toUpperCase(),
      RequestedSendTime: order.requestedSendTime,
      NotificationChannel: 'email',
      Creator: { ShortName: 'skd' },
      Created: order.created,
      Type: 'notification',
      Templates: [
        { $: 'EMAIL', Body: 'B', ContentType: 'plain', FromAddress: 'f', Subject: 'S', Type: 'email' },
      ],
      Recipients: [
        { AddressInfo: [{ $: 'Sms', AddressType: 'SMS', MobileNumber: '+47' }], IsReserved: false },
      ],
    };

    expect(NotificationOrderContract.serialize(NotificationOrderContract.validate(pascal))).toBe(
      JSON.stringify(
        minimal({
          templates: [
            { $: 'email', body: 'B', contentType: 'Plain', fromAddress: 'f', subject: 'S', type: 'Email' },
          ],
          recipients: [
            { addressInfo: [{ $: 'sms', addressType: 'Sms', mobileNumber: '+47' }], isReserved: false },
          ],
        }),
      ),
    );
  });

  it('fills in what "$" implies and an empty address list', () => {
    const parsed = NotificationOrderContract.validate(
      minimal({
        templates: [{ $: 'sms', body: 'B', senderNumber: 'S' }],
        recipients: [{ organizationNumber: '1' }],
      }),
    );

    expect(parsed.templates).toEqual([{ $: 'sms', body: 'B', senderNumber: 'S', type: 'Sms' }]);
    expect(parsed.recipients).toEqual([{ addressInfo: [], organizationNumber: '1' }]);
  });

  it('names an unknown or missing discriminator', () => {
    const error = violationOf(() =>
      NotificationOrderContract.validate(minimal({ templates: [{ $: 'fax', body: 'B' }, { body: 'B' }] })),
    );

    expect(error.issues).toEqual([
      { path: 'templates[0].$', message: 'expected one of email | sms, got "fax"' },
      { path: 'templates[1].$', message: 'required (one of email | sms)' },
    ]);
  });

  it('rejects a type that contradicts "$"', () => {
    expect(
      violatedPaths(() =>
        NotificationOrderContract.validate(
          minimal({ templates: [{ $: 'sms', body: 'B', senderNumber: 'S', type: 'Email' }] }),
        ),
      ),
    ).toEqual(['templates[0].type']);
  });

  it('names the full path of a nested bad field', () => {
    const error = violationOf(() =>
      NotificationOrderContract.validate(
        minimal({
          creator: {},
          recipients: [
            { addressInfo: [] },
            { addressInfo: [{ $: 'email', addressType: 'Email', emailAddress: 42 }] },
          ],
        }),
      ),
    );

    expect(error.issues.map((issue) => issue.path)).toEqual([
      'creator.shortName',
      'recipients[1].addressInfo[0].emailAddress',
    ]);
    expect(error.message).toContain('recipients[1].addressInfo[0].emailAddress: expected string, got number');
  });

  it('normalises enum values and UUIDs', () => {
    const parsed = NotificationOrderContract.validate(
      minimal({
        id: order.id.toUpperCase(),
        notificationChannel: 'EMAILPREFERRED',
        sendingTimePolicy: 'anytime',
      }),
    );

    expect(parsed).toMatchObject({
      id: order.id,
      notificationChannel: 'EmailPreferred',
      sendingTimePolicy: 'Anytime',
    });
  });
});
