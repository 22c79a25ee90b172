import { expectEventually } from '@notifications/testing';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emailTo, startTestEmulator, type TestEmulator } from './support/test-emulator';

interface ReceivedRequest {
  url: string;
  headers: IncomingHttpHeaders;
  events: {
    id: string;
    topic: string;
    subject: string;
    eventType: string;
    dataVersion: string;
    metadataVersion: string;
    eventTime: string;
    data: {
      sender: string;
      recipient: string;
      messageId: string;
      status: string;
      deliveryStatusDetails: { statusMessage: string };
      deliveryAttemptTimeStamp: string;
    };
  }[];
}

/** A stand-in for the status-poller's Event Grid webhook: records requests, answers with scripted statuses. */
class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Statuses to answer with, in order; 200 once exhausted. */
  answers: number[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const status = this.answers.shift() ?? 200;
        this.requests.push({
          url: request.url ?? '',
          headers: request.headers,
          events: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedRequest['events'],
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/webhooks/acs?accesskey=hook-secret`;
  }

  get events(): ReceivedRequest['events'] {
    return this.requests
      .filter((request) => request.headers['aeg-delivery-count'] !== undefined)
      .flatMap((request) => request.events);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const RESOURCE_ID =
  '/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/contoso';

describe('Event Grid delivery reports', () => {
  let emulator: TestEmulator;
  const receiver = new WebhookReceiver();
  let webhookUrl: string;

  beforeAll(async () => {
    webhookUrl = await receiver.start();
    emulator = await startTestEmulator({
      ACS_DELIVERY_REPORT_WEBHOOK: webhookUrl,
      ACS_DELIVERY_REPORT_DELAY_MS: '0',
      ACS_DELIVERY_REPORT_ACCESS_KEY: 'header-secret',
      ACS_RESOURCE_ID: RESOURCE_ID,
    });
  });
  afterAll(async () => {
    await emulator.close();
    await receiver.stop();
  });
  beforeEach(async () => {
    await emulator.admin('POST', '/admin/reset?config=true');
    receiver.requests.length = 0;
    receiver.answers = [];
  });

  it('posts an EmailDeliveryReportReceived event per recipient once the operation succeeded', async () => {
    const operationId = randomUUID();
    await emulator.send(emailTo(['a@example.org', 'b@bounce.test']), { operationId });

    await expectEventually(() => expect(receiver.events).toHaveLength(2));
    const request = receiver.requests[0]!;
    expect(request.url).toBe('/webhooks/acs?accesskey=hook-secret');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['aeg-event-type']).toBe('Notification');
    // ACS_DELIVERY_REPORT_ACCESS_KEY, sent like an Event Grid subscription's secret delivery property.
    expect(request.headers['x-delivery-report-key']).toBe('header-secret');
    const byRecipient = Object.fromEntries(receiver.events.map((event) => [event.data.recipient, event]));
    expect(byRecipient['a@example.org']).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: RESOURCE_ID,
      subject: `sender/noreply@example.org/message/${operationId}`,
      data: {
        sender: 'noreply@example.org',
        recipient: 'a@example.org',
        messageId: operationId,
        internetMessageId: expect.any(String),
        status: 'Delivered',
        deliveryStatusDetails: { statusMessage: expect.any(String) },
        deliveryAttemptTimeStamp: expect.stringMatching(/Z$/),
      },
      eventType: 'Microsoft.Communication.EmailDeliveryReportReceived',
      dataVersion: '1.0',
      metadataVersion: '1',
      eventTime: expect.stringMatching(/Z$/),
    });
    expect(byRecipient['b@bounce.test']?.data.status).toBe('Bounced');
    await expectEventually(async () =>
      expect((await emulator.admin('GET', '/admin/stats')).body).toMatchObject({
        deliveryReports: { scheduled: 2, delivered: 2, failed: 0, pending: 0 },
      }),
    );
  });

  it('sends no report for a failed operation', async () => {
    const failed = randomUUID();
    await emulator.send(emailTo('x@suppressed.test'), { operationId: failed });
    // The failed operation is over before the succeeding one starts: a report for it would be due first.
    await expectEventually(async () =>
      expect((await emulator.poll(failed)).body).toMatchObject({ status: 'Failed' }),
    );
    await emulator.send(emailTo('a@example.org'));

    await expectEventually(() => expect(receiver.events).toHaveLength(1));
    // Every report planned so far has gone out: one, for the succeeded operation only.
    await expectEventually(async () =>
      expect((await emulator.admin('GET', '/admin/stats')).body).toMatchObject({
        deliveryReports: { scheduled: 1, delivered: 1, pending: 0 },
      }),
    );
    expect(receiver.events.map((event) => event.data.recipient)).toEqual(['a@example.org']);
  });

  it('retries a failing webhook and counts the attempts', async () => {
    receiver.answers = [500, 503];
    await emulator.send(emailTo('a@example.org'));

    await expectEventually(() => expect(receiver.requests).toHaveLength(3));
    expect(receiver.requests.map((request) => request.headers['aeg-delivery-count'])).toEqual([
      '0',
      '1',
      '2',
    ]);
    await expectEventually(async () =>
      expect((await emulator.admin('GET', '/admin/stats')).body).toMatchObject({
        deliveryReports: { delivered: 1, attempts: 3, retries: 2 },
      }),
    );
  });

  it('picks statuses from a configured mix, the same way for the same operation id', async () => {
    const configured = await emulator.admin('PUT', '/admin/delivery-reports', {
      statusMix: { Delivered: 1, Quarantined: 1 },
    });
    expect(configured.body).toMatchObject({
      webhookUrl: expect.stringContaining('accesskey=***'),
      statusMix: { Delivered: 1, Quarantined: 1 },
    });
    const ids = Array.from({ length: 40 }, () => randomUUID());
    for (const operationId of ids) await emulator.send(emailTo('a@example.org'), { operationId });
    await expectEventually(() => expect(receiver.events).toHaveLength(40));
    const first = new Map(receiver.events.map((event) => [event.data.messageId, event.data.status]));

    await emulator.admin('POST', '/admin/reset');
    receiver.requests.length = 0;
    for (const operationId of ids) await emulator.send(emailTo('a@example.org'), { operationId });
    await expectEventually(() => expect(receiver.events).toHaveLength(40));

    const statuses = [...first.values()];
    expect(statuses).toContain('Delivered');
    expect(statuses).toContain('Quarantined');
    expect(new Map(receiver.events.map((event) => [event.data.messageId, event.data.status]))).toEqual(first);
  });

  it('can be switched off and on at run time', async () => {
    await emulator.admin('DELETE', '/admin/delivery-reports');
    await emulator.send(emailTo('a@example.org'));
    await emulator.admin('PUT', '/admin/delivery-reports', { webhookUrl });
    await emulator.send(emailTo('b@example.org'));

    await expectEventually(() => expect(receiver.events).toHaveLength(1));
    expect(receiver.events[0]?.data.recipient).toBe('b@example.org');
  });
});

describe('Event Grid delivery reports: batching (maxEventsPerBatch, preferredBatchSizeInKilobytes)', () => {
  const receiver = new WebhookReceiver();
  let webhookUrl: string;
  const started: TestEmulator[] = [];
  const recipients = (count: number) => Array.from({ length: count }, (_, i) => `r${i}@example.org`);

  beforeAll(async () => {
    webhookUrl = await receiver.start();
  });
  beforeEach(() => {
    receiver.requests.length = 0;
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((emulator) => emulator.close()));
  });
  afterAll(async () => {
    await receiver.stop();
  });

  async function emulatorWith(env: Record<string, string>): Promise<TestEmulator> {
    const emulator = await startTestEmulator({
      ACS_DELIVERY_REPORT_WEBHOOK: webhookUrl,
      ACS_DELIVERY_REPORT_DELAY_MS: '0',
      ...env,
    });
    started.push(emulator);
    return emulator;
  }

  it('posts the events due at one tick as one array by default', async () => {
    const emulator = await emulatorWith({});
    await emulator.send(emailTo(recipients(7)));

    await expectEventually(() => expect(receiver.events).toHaveLength(7));
    expect(receiver.requests).toHaveLength(1);
    expect(new Set(receiver.events.map((event) => event.data.recipient))).toEqual(new Set(recipients(7)));
  });

  it('never puts more than ACS_DELIVERY_REPORT_BATCH_SIZE events in a request', async () => {
    const emulator = await emulatorWith({ ACS_DELIVERY_REPORT_BATCH_SIZE: '2' });
    await emulator.send(emailTo(recipients(5)));

    await expectEventually(() => expect(receiver.events).toHaveLength(5));
    expect(receiver.requests.map((request) => request.events.length).sort()).toEqual([1, 2, 2]);
    await expectEventually(async () =>
      expect((await emulator.admin('GET', '/admin/stats')).body).toMatchObject({
        deliveryReports: { scheduled: 5, delivered: 5, attempts: 3, pending: 0 },
      }),
    );
  });

  it('ends a batch before its body would pass ACS_DELIVERY_REPORT_BATCH_KB', async () => {
    // One event is ~600 bytes: a 1 KB batch holds one.
    const emulator = await emulatorWith({ ACS_DELIVERY_REPORT_BATCH_KB: '1' });
    await emulator.send(emailTo(recipients(3)));

    await expectEventually(() => expect(receiver.events).toHaveLength(3));
    expect(receiver.requests.map((request) => request.events.length)).toEqual([1, 1, 1]);
  });
});
