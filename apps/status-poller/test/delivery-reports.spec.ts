import { randomUUID } from 'node:crypto';
import { expectEventually } from '@notifications/testing';
import { DeliveryReportController } from '../src/delivery-reports/delivery-report.controller';
import { ACS_EMULATOR_RESOURCE_ID, DELIVERY_REPORT_KEY_HEADER } from '@notifications/config';
import { DEFAULT_DELIVERY_REPORT_ACCESS_KEY } from '../src/config/status-poller.config';
import { sendEmails, startEmulator } from './support/acs-emulator';
import { TestKafka, type ObservedRecord } from './support/kafka';
import { resultFields, resultsOf } from './support/messages';
import { operatorAuth, StatusPollerApp, TEST_SCHEDULE_ENV, uniqueSuffix } from './support/status-poller-app';

const REPORT_EVENT = 'Microsoft.Communication.EmailDeliveryReportReceived';

const MAX_EVENTS = 20;

function deliveryReport(
  messageId: string,
  status: string,
  topic: string = ACS_EMULATOR_RESOURCE_ID,
): Record<string, unknown> {
  return {
    id: randomUUID(),
    topic,
    subject: `sender/noreply@example.org/message/${messageId}`,
    eventType: REPORT_EVENT,
    eventTime: new Date().toISOString(),
    dataVersion: '1.0',
    metadataVersion: '1',
    data: {
      sender: 'noreply@example.org',
      recipient: 'someone@example.org',
      messageId,
      internetMessageId: `<${messageId}@example.org>`,
      status,
      deliveryStatusDetails: { statusMessage: 'details' },
      deliveryAttemptTimeStamp: new Date().toISOString(),
    },
  };
}

describe(`${DeliveryReportController.name} (real broker)`, () => {
  const suffix = uniqueSuffix('reports');
  let poller: StatusPollerApp;
  let kafka: TestKafka;
  let records: ObservedRecord[];

  const reportsUrl = (): string => `${poller.url}/notifications/email/api/v1/reports`;

  /** `accessKey` goes in the X-Delivery-Report-Key header; `null`: no header at all. */
  const post = (
    body: string | unknown,
    accessKey: string | null = DEFAULT_DELIVERY_REPORT_ACCESS_KEY,
    url: string = reportsUrl(),
  ): Promise<Response> =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(accessKey === null ? {} : { [DELIVERY_REPORT_KEY_HEADER]: accessKey }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const results = () => resultsOf(records, poller.topics.emailStatusUpdated.name);

  beforeAll(async () => {
    kafka = new TestKafka();
    poller = await StatusPollerApp.start(
      { ...TEST_SCHEDULE_ENV, KAFKA_TOPIC_SUFFIX: suffix, DELIVERY_REPORT_MAX_EVENTS: String(MAX_EVENTS) },
      kafka,
    );
    records = await kafka.read([poller.topics.emailStatusUpdated.name], suffix);
  });

  afterAll(async () => {
    await poller.close();
    await kafka.deleteTopics(suffix);
    await kafka.close();
  });

  it('answers the Event Grid subscription validation handshake, with or without the key header', async () => {
    const handshake = (validationCode: string) => [
      {
        id: randomUUID(),
        topic: ACS_EMULATOR_RESOURCE_ID,
        subject: '',
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: new Date().toISOString(),
        data: { validationCode, validationUrl: 'https://example.org/x' },
        dataVersion: '2',
        metadataVersion: '1',
      },
    ];
    const withoutKey = await post(handshake('code-without-key'), null);
    expect(withoutKey.status).toBe(200);
    expect(await withoutKey.json()).toEqual({ validationResponse: 'code-without-key' });

    const response = await post([
      {
        id: randomUUID(),
        topic: '/subscriptions/x',
        subject: '',
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: new Date().toISOString(),
        data: {
          validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6',
          validationUrl: 'https://example.org/x',
        },
        dataVersion: '2',
        metadataVersion: '1',
      },
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });

    // the CloudEvents handshake, without the key header (whether Event Grid sends it there is not documented)
    const options = await fetch(reportsUrl(), {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' },
    });
    expect(options.status).toBe(200);
    expect(options.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
  });

  it('publishes each delivery status as its SPEC result, keyed by the operation id and without a notification id', async () => {
    const statuses: [string, string][] = [
      ['Delivered', 'Delivered'],
      ['Bounced', 'Failed_Bounced'],
      ['Suppressed', 'Failed_SupressedRecipient'],
      ['FilteredSpam', 'Failed_FilteredSpam'],
      ['Quarantined', 'Failed_Quarantined'],
      ['Failed', 'Failed'],
      ['Expanded', 'Failed'],
    ];
    const expected = statuses.map(([status, sendResult]) => ({
      operationId: randomUUID(),
      status,
      sendResult,
    }));
    const response = await post(
      expected.map(({ operationId, status }) => deliveryReport(operationId, status)),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      events: 7,
      published: 7,
      ignored: 0,
      unknownStatus: 0,
      foreign: 0,
    });

    const ids = new Set<string>(expected.map((e) => e.operationId));
    const byId = (a: { operationId: string }, b: { operationId: string }): number =>
      a.operationId.localeCompare(b.operationId);
    await expectEventually(() => {
      const ours = results()
        .filter((r) => ids.has(r.operationId))
        .sort(byId);
      expect(ours.map(resultFields)).toEqual(
        expected.map(({ operationId, sendResult }) => ({ operationId, sendResult })).sort(byId),
      );
      expect(ours.every((r) => r.record.key === r.operationId)).toBe(true);
    });
  });

  it('refuses a missing or wrong key header, and the key in the query string, with 401, publishing nothing', async () => {
    const operationId = randomUUID();
    const inQuery = `${reportsUrl()}?accesskey=${DEFAULT_DELIVERY_REPORT_ACCESS_KEY}`;
    for (const [key, url] of [
      [null, reportsUrl()],
      ['wrong-key', reportsUrl()],
      ['', reportsUrl()],
      [null, inQuery],
    ] as const) {
      const response = await post([deliveryReport(operationId, 'Delivered')], key, url);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({
        status: 401,
        title: 'Unauthorized',
        detail: expect.stringContaining(DELIVERY_REPORT_KEY_HEADER),
      });
    }
    // A delivered report published afterwards arrives alone: the refused ones never reached Kafka.
    const later = randomUUID();
    expect((await post([deliveryReport(later, 'Delivered')])).status).toBe(200);
    await expectEventually(() => expect(results().some((r) => r.operationId === later)).toBe(true));
    expect(results().some((r) => r.operationId === operationId)).toBe(false);
  });

  it('refuses malformed bodies with 400 and a message naming the problem', async () => {
    const cases: [string, RegExp][] = [
      ['[{"eventType":', /not valid JSON/],
      ['', /empty body/],
      ['"text"', /expected a JSON array of Event Grid events, got string/],
      [JSON.stringify([{ data: {} }]), /\[0\]\.eventType: required/],
      [JSON.stringify([deliveryReport('', 'Delivered')]), /\[0\]\.data\.messageId: required/],
      [
        JSON.stringify([{ eventType: REPORT_EVENT, data: { messageId: 'x' } }]),
        /\[0\]\.data\.status: required/,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { detail: string; title: string };
      expect(problem.title).toBe('Malformed Event Grid delivery');
      expect(problem.detail).toMatch(message);
    }
    // A body over the limit is refused before it is read.
    const huge = await post(`[${'"x",'.repeat(1_000_000)}"x"]`);
    expect(huge.status).toBe(413);
  });

  it('refuses more events per request than DELIVERY_REPORT_MAX_EVENTS with 413, publishing none of them', async () => {
    const ids: string[] = Array.from({ length: MAX_EVENTS + 1 }, () => randomUUID());
    const response = await post(ids.map((id) => deliveryReport(id, 'Delivered')));
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 413,
      title: 'Too many events',
      events: MAX_EVENTS + 1,
      maxEvents: MAX_EVENTS,
    });
    const atLimit = ids.slice(0, MAX_EVENTS);
    expect((await post(atLimit.map((id) => deliveryReport(id, 'Delivered')))).status).toBe(200);
    await expectEventually(() =>
      expect(
        new Set(
          results()
            .filter((r) => ids.includes(r.operationId))
            .map((r) => r.operationId),
        ),
      ).toEqual(new Set(atLimit)),
    );
  });

  it('refuses events from another resource than ACS_RESOURCE_ID (or none), counting them, publishing the rest', async () => {
    const foreign = randomUUID();
    const untopiced = randomUUID();
    const ours = randomUUID();
    const withoutTopic = deliveryReport(untopiced, 'Delivered');
    delete withoutTopic['topic'];
    const other =
      '/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/other';
    const response = await post([
      deliveryReport(foreign, 'Delivered', other),
      withoutTopic,
      // CloudEvents schema: the resource is in `source`; resource ids compare case-insensitively.
      {
        id: randomUUID(),
        source: ACS_EMULATOR_RESOURCE_ID.toUpperCase(),
        type: REPORT_EVENT,
        specversion: '1.0',
        data: { messageId: ours, status: 'Delivered' },
      },
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      events: 3,
      published: 1,
      ignored: 0,
      unknownStatus: 0,
      foreign: 2,
    });
    await expectEventually(() => expect(results().some((r) => r.operationId === ours)).toBe(true));
    expect(results().some((r) => r.operationId === foreign || r.operationId === untopiced)).toBe(false);
    const stats = (await (
      await fetch(`${poller.managementUrl}/stats`, { headers: operatorAuth.headers() })
    ).json()) as {
      deliveryReports: { foreignEvents: number };
    };
    expect(stats.deliveryReports.foreignEvents).toBeGreaterThanOrEqual(2);
  });

  it('counts unknown statuses and ignores other event types without failing the delivery', async () => {
    const known = randomUUID();
    const unknown = randomUUID();
    const response = await post([
      deliveryReport(unknown, 'OutForDelivery'),
      {
        id: 'e',
        topic: ACS_EMULATOR_RESOURCE_ID,
        eventType: 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
        data: { messageId: unknown },
      },
      deliveryReport(known, 'Delivered'),
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      events: 3,
      published: 1,
      ignored: 1,
      unknownStatus: 1,
      foreign: 0,
    });
    await expectEventually(() => expect(results().some((r) => r.operationId === known)).toBe(true));
    expect(results().some((r) => r.operationId === unknown)).toBe(false);

    const stats = (await (
      await fetch(`${poller.managementUrl}/stats`, { headers: operatorAuth.headers() })
    ).json()) as {
      deliveryReports: { unknownStatuses: Record<string, number>; ignoredEventTypes: Record<string, number> };
    };
    expect(stats.deliveryReports.unknownStatuses).toEqual({ OutForDelivery: 1 });
    expect(stats.deliveryReports.ignoredEventTypes).toEqual({
      'Microsoft.Communication.EmailEngagementTrackingReportReceived': 1,
    });
  });

  it('is ready when Kafka is: the health check publishes to its email health topic', async () => {
    const live = await fetch(`${poller.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${poller.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { kafka: { status: 'up' } } });
  });

  it('turns the ACS emulator’s Event Grid delivery reports into status updates', async () => {
    const emulator = await startEmulator({
      ACS_DELIVERY_REPORT_WEBHOOK: reportsUrl(),
      ACS_DELIVERY_REPORT_ACCESS_KEY: DEFAULT_DELIVERY_REPORT_ACCESS_KEY,
      ACS_DELIVERY_REPORT_STATUS_MIX: JSON.stringify({ Delivered: 1, Bounced: 1 }),
      ACS_DELIVERY_REPORT_DELAY_MS: '0',
      ACS_OPERATION_DELAY_MS: '0',
    });
    try {
      const ids: string[] = Array.from({ length: 20 }, () => randomUUID());
      await sendEmails(
        emulator,
        ids.map((id) => ({ id, to: `${id}@example.org` })),
      );
      const reported = await expectEventually(
        () => {
          const ours = results().filter((r) => ids.includes(r.operationId));
          expect(new Set(ours.map((r) => r.operationId)).size).toBe(ids.length);
          return ours;
        },
        { timeoutMs: 20_000 },
      );
      expect(reported.every((r) => r.notificationId === undefined)).toBe(true);
      expect(new Set(reported.map((r) => r.sendResult))).toEqual(new Set(['Delivered', 'Failed_Bounced']));
    } finally {
      await emulator.stop();
    }
  });
});
