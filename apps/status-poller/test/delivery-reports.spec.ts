import { randomUUID } from 'node:crypto';
import { expectEventually } from '@notifications/testing';
import { DeliveryReportController } from '../src/delivery-reports/delivery-report.controller';
import { DEFAULT_DELIVERY_REPORT_ACCESS_KEY } from '../src/config/status-poller.config';
import { AcsEmulator } from './support/acs-emulator';
import { TestKafka, type ObservedRecord } from './support/kafka';
import { resultFields, resultsOf } from './support/messages';
import { operatorAuth, StatusPollerApp, TEST_SCHEDULE_ENV, uniqueSuffix } from './support/status-poller-app';

const REPORT_EVENT = 'Microsoft.Communication.EmailDeliveryReportReceived';

function deliveryReport(messageId: string, status: string): Record<string, unknown> {
  return {
    id: randomUUID(),
    topic: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/communicationServices/z',
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

  /** `null`: no accesskey parameter at all. */
  const reportsUrl = (accessKey: string | null = DEFAULT_DELIVERY_REPORT_ACCESS_KEY): string =>
    `${poller.url}/notifications/email/api/v1/reports${accessKey === null ? '' : `?accesskey=${encodeURIComponent(accessKey)}`}`;

  const post = (
    body: string | unknown,
    accessKey: string | null = DEFAULT_DELIVERY_REPORT_ACCESS_KEY,
    contentType = 'application/json',
  ): Promise<Response> =>
    fetch(reportsUrl(accessKey), {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const results = () => resultsOf(records, poller.topics.statusUpdated.name);

  beforeAll(async () => {
    kafka = new TestKafka();
    poller = await StatusPollerApp.start({ ...TEST_SCHEDULE_ENV, KAFKA_TOPIC_SUFFIX: suffix }, kafka);
    records = await kafka.read([poller.topics.statusUpdated.name], suffix);
  });

  afterAll(async () => {
    await poller.close();
    await kafka.deleteTopics(suffix);
    await kafka.close();
  });

  it('answers the Event Grid subscription validation handshake', async () => {
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
    expect(await response.json()).toEqual({ events: 7, published: 7, ignored: 0, unknownStatus: 0 });

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

  it('refuses a missing or wrong access key with 401 problem details, publishing nothing', async () => {
    const operationId = randomUUID();
    for (const key of [null, 'wrong-key', '']) {
      const response = await post([deliveryReport(operationId, 'Delivered')], key);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
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

  it('counts unknown statuses and ignores other event types without failing the delivery', async () => {
    const known = randomUUID();
    const unknown = randomUUID();
    const response = await post([
      deliveryReport(unknown, 'OutForDelivery'),
      {
        id: 'e',
        eventType: 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
        data: { messageId: unknown },
      },
      deliveryReport(known, 'Delivered'),
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ events: 3, published: 1, ignored: 1, unknownStatus: 1 });
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
    const emulator = await AcsEmulator.start({
      ACS_DELIVERY_REPORT_WEBHOOK: reportsUrl(),
      ACS_DELIVERY_REPORT_STATUS_MIX: JSON.stringify({ Delivered: 1, Bounced: 1 }),
      ACS_DELIVERY_REPORT_DELAY_MS: '0',
      ACS_OPERATION_DELAY_MS: '0',
    });
    try {
      const ids: string[] = Array.from({ length: 20 }, () => randomUUID());
      await emulator.sendAll(ids.map((id) => ({ id, to: `${id}@example.org` })));
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
