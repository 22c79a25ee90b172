import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  EmailContract,
  GenericServiceUpdateContract,
  NotificationOrderContract,
  SendOperationResultContract,
  formatTimestamp,
  resourceLimitExceeded,
  type Email,
  type SendOperationResult,
} from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { type ReceivedRecord } from '@notifications/messaging/testing';
import {
  ContactPointUnavailableError,
  type ContactPointService,
  type OrganizationContactPoint,
  type PersonContactPoint,
} from '../src/domain/contact-point.service';
import { LocalContactPointRepository } from '../src/store/local-contact-point.repository';
import { OrdersScheduler } from '../src/scheduler/orders.scheduler';
import { OrdersDb } from './support/db-helpers';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

/** The local register, with failures on demand (a register outage) and lookups held on demand (a slow intake). */
class FlakyContactPoints implements ContactPointService {
  failures = 0;
  calls = 0;
  /** While set, every lookup waits for it. */
  hold: Promise<void> | undefined;
  held = 0;

  constructor(private readonly register: ContactPointService) {}

  lookupPersons(numbers: readonly string[]): Promise<PersonContactPoint[]> {
    return this.call(() => this.register.lookupPersons(numbers));
  }

  lookupOrganizations(numbers: readonly string[]): Promise<OrganizationContactPoint[]> {
    return this.call(() => this.register.lookupOrganizations(numbers));
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    this.calls += 1;
    if (this.hold !== undefined) {
      this.held += 1;
      await this.hold;
    }
    if (this.failures > 0) {
      this.failures -= 1;
      throw new ContactPointUnavailableError('connect ECONNREFUSED (simulated outage)');
    }
    return work();
  }
}

describe('orders consumers against the real broker', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;
  let db: OrdersDb;
  let contactPoints: FlakyContactPoints;
  let emails: ReceivedRecord[];
  let pastDue: ReceivedRecord[];
  let deadLetters: ReceivedRecord[];

  beforeAll(async () => {
    resources = await createTestResources('consumers');
    db = new OrdersDb(resources.db.dataSource);
    contactPoints = new FlakyContactPoints(new LocalContactPointRepository(resources.db.dataSource));
    server = await startOrdersApp(resources, { contactPoints });
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    emails = await resources.kafka.read([resources.topics.emailQueue.name]);
    pastDue = await resources.kafka.read([resources.topics.ordersPastDue.name]);
    deadLetters = await resources.kafka.read([resources.topics.emailStatusUpdated.deadLetterTopic]);
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  async function placeOrder(overrides: Record<string, unknown> = {}): Promise<string> {
    const response = await api.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(overrides));
    expect(response.status).toBe(202);
    return response.body.orderId;
  }

  function emailsTo(address: string): Email[] {
    return emails
      .map((record) => EmailContract.parse(record.value ?? null))
      .filter((email) => email.toAddress === address);
  }

  async function publishStatus(...updates: SendOperationResult[]): Promise<void> {
    // Raw and keyed like the senders do, one after the other (same key → same partition → this order).
    await resources.kafka.produceRaw(
      resources.topics.emailStatusUpdated.name,
      updates.map((update) => ({
        key: resources.topics.emailStatusUpdated.keyOf(update) ?? '',
        value: SendOperationResultContract.serialize(update),
      })),
    );
  }

  it('creates one notification per address, and a redelivered orders.pastdue message creates nothing twice', async () => {
    const orderId = await placeOrder({
      recipients: [
        { emailAddress: 'redelivery@example.com' },
        { emailAddress: 'REDELIVERY@example.com' },
        { organizationNumber: '910000001' },
      ],
    });
    await expectEventually(async () => expect(await db.status(orderId)).toBe('Processed'));
    const before = await db.notifications(orderId);
    expect(before.map((n) => n.to_address)).toEqual([
      'post@eksempel-as.example.no',
      'redelivery@example.com',
      'varsel@eksempel-as.example.no',
    ]);
    const message = await expectEventually(() => {
      const record = pastDue.find((r) => r.key === orderId);
      expect(record).toBeDefined();
      return record!;
    });
    expect(NotificationOrderContract.parse(message.value ?? null).id).toBe(orderId);

    // Redelivery after the order was processed: recognised and skipped.
    await resources.kafka.produceRaw(resources.topics.ordersPastDue.name, [
      { key: orderId, value: message.value ?? null },
    ]);
    // Redelivery of a message whose processing did not get to mark the order: notifications exist already.
    await resources.db.dataSource.query(`UPDATE orders SET processing_status = 'Processing' WHERE id = $1`, [
      orderId,
    ]);
    await resources.kafka.produceRaw(resources.topics.ordersPastDue.name, [
      { key: orderId, value: message.value ?? null },
    ]);

    await expectEventually(async () => {
      expect(
        await resources.kafka.committedCount(resources.intakeGroupId, resources.topics.ordersPastDue.name),
      ).toBe(await resources.kafka.messageCount(resources.topics.ordersPastDue.name));
      expect(await db.status(orderId)).toBe('Processed');
    });
    const identity = (rows: { id: string; to_address: string | null }[]) =>
      rows.map(({ id, to_address }) => ({ id, to_address }));
    expect(identity(await db.notifications(orderId))).toEqual(identity(before));
  });

  it('creates one notification per address when the duplicates are far apart in a large order', async () => {
    // Intake drafts a slice of recipients at a time: the first address of the order must win across slices too.
    const recipients = [
      { emailAddress: 'Far-Apart@example.com' },
      ...Array.from({ length: 6_000 }, (_, i) => ({ emailAddress: `far-${i}@example.com` })),
      { emailAddress: 'far-apart@EXAMPLE.com' },
      { emailAddress: 'far-0@example.com' },
    ];
    const orderId = await placeOrder({ recipients });
    await expectEventually(async () => expect(await db.status(orderId)).toBe('Processed'), {
      timeoutMs: 30_000,
    });
    const notifications = await db.notifications(orderId);
    expect(notifications).toHaveLength(6_001);
    expect(notifications.find((n) => n.recipient_key === 'far-apart@example.com')?.to_address).toBe(
      'Far-Apart@example.com',
    );
  });

  it('publishes personalised emails in the wire format, keyed by notification id', async () => {
    const orderId = await placeOrder({
      subject: 'Hello $recipientName$',
      body: 'Number $recipientNumber$',
      recipients: [{ nationalIdentityNumber: '01017012345' }],
    });
    const [notification] = await expectEventually(async () => {
      const rows = await db.notifications(orderId);
      expect(rows.map((n) => n.result)).toEqual(['Sending']);
      return rows;
    });
    const record = await expectEventually(() => {
      const found = emails.find((r) => r.key === notification!.id);
      expect(found).toBeDefined();
      return found!;
    });
    expect(JSON.parse(record.value!)).toEqual({
      notificationId: notification!.id,
      subject: 'Hello Ola Nordmann',
      body: 'Number 01017012345',
      fromAddress: 'noreply@altinn.cloud',
      toAddress: 'ola.nordmann@example.com',
      contentType: 'Plain',
    });
    expect(record.value).toBe(EmailContract.serialize(EmailContract.parse(record.value!)));
  });

  it('applies out-of-order status updates forward only and completes the order', async () => {
    const orderId = await placeOrder({
      recipients: [{ emailAddress: 'first@example.com' }, { emailAddress: 'second@example.com' }],
    });
    const [first, second] = await expectEventually(async () => {
      const rows = await db.notifications(orderId);
      expect(rows.map((n) => n.result)).toEqual(['Sending', 'Sending']);
      return rows;
    });
    await publishStatus(
      // A delivery report overtakes the poller's Succeeded.
      { notificationId: first!.id, operationId: first!.id, sendResult: 'Delivered' },
      { notificationId: first!.id, operationId: first!.id, sendResult: 'Succeeded' },
      // A bounce, then a stray delivery report carrying only the operation id.
      { notificationId: second!.id, operationId: second!.id, sendResult: 'Failed_Bounced' },
      { operationId: second!.id, sendResult: 'Delivered' },
    );
    await expectEventually(async () => {
      expect((await db.notifications(orderId)).map((n) => [n.to_address, n.result])).toEqual([
        ['first@example.com', 'Delivered'],
        ['second@example.com', 'Failed_Bounced'],
      ]);
      expect(await db.status(orderId)).toBe('Completed');
    });
    expect(
      await resources.kafka.committedCount(
        resources.consumerGroupId,
        resources.topics.emailStatusUpdated.name,
      ),
    ).toBe(await resources.kafka.messageCount(resources.topics.emailStatusUpdated.name));
    const status = await api.get<{
      notificationsStatusSummary: { email: { generated: number; succeeded: number } };
    }>(`${API}/orders/${orderId}/status`);
    expect(status.body.notificationsStatusSummary.email).toEqual(
      expect.objectContaining({ generated: 2, succeeded: 1 }),
    );
  });

  it('applies status updates while an intake is still running (the intake reads in a consumer group of its own)', async () => {
    const orderId = await placeOrder({ recipients: [{ emailAddress: 'during-intake@example.com' }] });
    const [notification] = await expectEventually(async () => {
      const rows = await db.notifications(orderId);
      expect(rows.map((n) => n.result)).toEqual(['Sending']);
      return rows;
    });
    let release: () => void = () => undefined;
    contactPoints.hold = new Promise<void>((resolve) => (release = resolve));
    const heldBefore = contactPoints.held;
    let slowOrder: string | undefined;
    try {
      slowOrder = await db.insertOrder([{ nationalIdentityNumber: '01017012345' }]);
      await expectEventually(() => expect(contactPoints.held).toBe(heldBefore + 1));
      await publishStatus({
        notificationId: notification!.id,
        operationId: notification!.id,
        sendResult: 'Delivered',
      });
      await expectEventually(async () => expect(await db.status(orderId)).toBe('Completed'));
      expect(await db.status(slowOrder)).toBe('Processing');
    } finally {
      contactPoints.hold = undefined;
      release();
    }
    const intakeDone = slowOrder;
    await expectEventually(async () => expect(await db.status(intakeDone)).toBe('Processed'));
  });

  it('sends an email again after Failed_TransientError', async () => {
    const orderId = await placeOrder({ recipients: [{ emailAddress: 'transient@example.com' }] });
    const [notification] = await expectEventually(async () => {
      const rows = await db.notifications(orderId);
      expect(rows.map((n) => n.result)).toEqual(['Sending']);
      return rows;
    });
    await expectEventually(() => expect(emailsTo('transient@example.com')).toHaveLength(1));
    await publishStatus({
      notificationId: notification!.id,
      operationId: '',
      sendResult: 'Failed_TransientError',
    });
    await expectEventually(() => expect(emailsTo('transient@example.com')).toHaveLength(2));
    expect(emailsTo('transient@example.com').map((email) => email.notificationId)).toEqual([
      notification!.id,
      notification!.id,
    ]);
    await publishStatus({
      notificationId: notification!.id,
      operationId: notification!.id,
      sendResult: 'Succeeded',
    });
    await expectEventually(async () =>
      expect((await db.notifications(orderId))[0]!.result).toBe('Succeeded'),
    );
    expect(await db.status(orderId)).toBe('Processed');
  });

  it('retries a status update for an unknown notification with delay, then dead-letters it', async () => {
    const unknown = '0b5c5f44-0000-4000-8000-000000000001';
    const retries = await resources.kafka.read([resources.topics.emailStatusUpdated.retryTopic!]);
    await publishStatus({ notificationId: unknown, operationId: '', sendResult: 'Delivered' });
    const dead = await expectEventually(() => {
      const record = deadLetters.find((r) => r.key === unknown);
      expect(record).toBeDefined();
      return record!;
    });
    expect(dead.headers).toMatchObject({
      'x-dead-letter-reason': 'retries-exhausted',
      'x-original-topic': resources.topics.emailStatusUpdated.name,
      'x-attempt': '3',
    });

    // With delay: each retry is due the policy's delay after the attempt before it (×4 per attempt), and no
    // attempt runs before it is due (attempt n+1 is scheduled when attempt n runs, so from its due time).
    const initialDelayMs = resources.config.consumer.retryInitialDelayMs;
    expect(initialDelayMs).toBeGreaterThan(0);
    const scheduled = await expectEventually(() => {
      const mine = retries.filter((record) => record.key === unknown);
      expect(mine.map((record) => record.headers['x-attempt'])).toEqual(['2', '3']);
      return mine;
    });
    const [secondDueAt, thirdDueAt] = scheduled.map((record) => Number(record.headers['x-due-at'])) as [
      number,
      number,
    ];
    const firstFailedAt = Date.parse(dead.headers['x-first-failed-at']!);
    // Both come from the clock of the same attempt; the due time is read first, so allow it 5 ms.
    expect(secondDueAt - firstFailedAt).toBeGreaterThanOrEqual(initialDelayMs - 5);
    const secondRanAt = thirdDueAt - 4 * initialDelayMs;
    expect(secondRanAt).toBeGreaterThanOrEqual(secondDueAt);
    expect(Date.parse(dead.headers['x-dead-lettered-at']!)).toBeGreaterThanOrEqual(thirdDueAt);
  });

  it('retries a contact-point outage, and when retries are exhausted puts the order back to Registered', async () => {
    contactPoints.failures = 1;
    const recovered = await db.insertOrder([{ nationalIdentityNumber: '01017012345' }]);
    await expectEventually(async () => expect(await db.status(recovered)).toBe('Processed'));
    expect(contactPoints.failures).toBe(0);

    contactPoints.failures = 1_000;
    const callsBefore = contactPoints.calls;
    const failing = await db.insertOrder([{ nationalIdentityNumber: '01017012345' }]);
    const order = await expectEventually(
      async () => {
        const row = await db.order(failing);
        expect(row.processing_status).toBe('Registered');
        expect(row.last_error).not.toBeNull();
        return row;
      },
      { timeoutMs: 30_000 },
    );
    contactPoints.failures = 0;
    expect(order.last_error).toMatch(/attempt 3\/3: .*contact-point register unavailable/);
    expect(contactPoints.calls - callsBefore).toBe(3);
    expect(await db.notifications(failing)).toEqual([]);
  });

  it("checks an order's send condition: not met stops it, met lets it through", async () => {
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ SendCondition: (request.url ?? '').includes('met=true') }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/condition`;
      const stopped = await placeOrder({ conditionEndpoint: `${base}?met=false` });
      const sent = await placeOrder({ conditionEndpoint: `${base}?met=true` });
      await expectEventually(async () => {
        expect(await db.status(stopped)).toBe('SendConditionNotMet');
        expect(await db.status(sent)).toBe('Processed');
      });
      expect(await db.notifications(stopped)).toEqual([]);
      expect(await db.notifications(sent)).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('ignores service updates from other sources, of other schemas or for other resources', async () => {
    // Another test may have left an (expired) pause behind: what matters is that these updates change nothing.
    const pausesBefore: unknown[] = await resources.db.dataSource.query('SELECT * FROM rate_limit_pauses');
    const update = resourceLimitExceeded(new Date(Date.now() + 600_000));
    await resources.kafka.produceRaw(resources.topics.platformServiceUpdated.name, [
      {
        key: 'other',
        value: GenericServiceUpdateContract.serialize({ ...update, source: 'platform-other' }),
      },
      { key: update.source, value: GenericServiceUpdateContract.serialize({ ...update, schema: 'Unkown' }) },
      {
        key: update.source,
        value: GenericServiceUpdateContract.serialize({
          ...update,
          data: JSON.stringify({
            resource: 'sms-gateway',
            resetTime: formatTimestamp(new Date(Date.now() + 600_000)),
          }),
        }),
      },
    ]);
    await expectEventually(async () => {
      const committed = await resources.kafka.committedCount(
        resources.consumerGroupId,
        resources.topics.platformServiceUpdated.name,
      );
      const produced = await resources.kafka.messageCount(resources.topics.platformServiceUpdated.name);
      expect(committed).toBe(produced);
    });
    expect(await resources.db.dataSource.query('SELECT * FROM rate_limit_pauses')).toEqual(pausesBefore);
  });

  it('publishes nothing while a rate-limit pause is in force, and resumes after it', async () => {
    const resetTime = new Date(Date.now() + 6_000);
    await resources.kafka.produceRaw(resources.topics.platformServiceUpdated.name, [
      {
        key: 'platform-notifications-email',
        value: GenericServiceUpdateContract.serialize(resourceLimitExceeded(resetTime)),
      },
    ]);
    const scheduler = server.app.get(OrdersScheduler);
    await expectEventually(() => expect(scheduler.statistics().lastEmailPublish?.kind).toBe('paused'));

    const orderId = await placeOrder({ recipients: [{ emailAddress: 'paused@example.com' }] });
    await expectEventually(async () => expect(await db.status(orderId)).toBe('Processed'));
    // Several publishing cycles run while paused: the notification stays New and nothing is published.
    const cycles = scheduler.emailPublishCycles;
    await expectEventually(() => expect(scheduler.emailPublishCycles).toBeGreaterThanOrEqual(cycles + 3));
    expect((await db.notifications(orderId)).map((n) => n.result)).toEqual(['New']);
    expect(emailsTo('paused@example.com')).toEqual([]);
    // The observation above happened during the pause (else this test proves nothing).
    expect(Date.now()).toBeLessThan(resetTime.getTime());

    const published = await expectEventually(() => {
      const records = emails.filter(
        (r) => EmailContract.parse(r.value ?? null).toAddress === 'paused@example.com',
      );
      expect(records).toHaveLength(1);
      return records[0]!;
    });
    expect(Number(published.headers['x-outbox-id'])).toBeGreaterThan(0);
    const sent = await db.notifications(orderId);
    expect(sent.map((n) => n.result)).toEqual(['Sending']);
    const claimedAt: { result_time: Date }[] = await resources.db.dataSource.query(
      'SELECT result_time FROM email_notifications WHERE order_id = $1',
      [orderId],
    );
    expect(claimedAt[0]!.result_time.getTime()).toBeGreaterThanOrEqual(resetTime.getTime());
  });
});
