import { createHmac, randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { hasSample, type MetricSample, parsePrometheusText, sampleValue } from '@notifications/observability';
import { expectEventually } from '@notifications/testing';
import { UnitOfWork } from '../src/store/unit-of-work';
import { EmailNotificationRepository } from '../src/store/email-notification.repository';
import { EMAIL_RESULT_DESCRIPTIONS, ORDER_STATUS_DESCRIPTIONS } from '../src/domain/status-descriptions';
import {
  createTestResources,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';
import { OrdersDb } from './support/db-helpers';

/** One request a receiver got. */
interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Answer = number | 'hang';

/**
 * A subscriber's HTTP endpoint on 127.0.0.1 (loopback is allow-listed outside production): records every request
 * and answers what `answer` says for it (a status, or never).
 */
class Receiver {
  readonly received: Received[] = [];
  answer: (request: Received, index: number) => Answer = () => 200;
  private server: Server | undefined;
  private port = 0;
  private readonly hanging = new Set<http.ServerResponse>();

  async start(): Promise<this> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
        const answer = this.answer(received, this.received.length);
        this.received.push(received);
        if (answer === 'hang') {
          this.hanging.add(response);
          return;
        }
        response.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/notify?token=path-secret`;
  }

  get label(): string {
    return `http:127.0.0.1:${this.port}`;
  }

  /** Stops listening (the port refuses connections until `start` again). */
  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface EventPayload {
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly type: string;
  readonly orderId: string;
  readonly notificationId: string | null;
  readonly recipient: { readonly emailAddress: string } | null;
  readonly status: string;
}

interface SubscriptionRow {
  state: string;
  times_sent: string;
  fails_counter: number;
  last_failure_reason: string | null;
  last_success: Date | null;
  pending: number;
}

const SECRET = 'whsec_delivery-test-secret';

/** Checks `x-notifications-signature` as a receiver would: HMAC-SHA256 of `<timestamp>.<body>` under the secret. */
function verifySignature(request: Received, secret = SECRET): boolean {
  const timestamp = request.headers['x-notifications-timestamp'];
  const signature = request.headers['x-notifications-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex');
  return signature === `v1=${expected}` && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
}

const payloads = (request: Received): EventPayload[] => {
  const parsed = JSON.parse(request.body) as EventPayload | EventPayload[];
  return Array.isArray(parsed) ? parsed : [parsed];
};

describe('subscription delivery against PostgreSQL and real HTTP receivers', () => {
  let resources: OrdersTestResources;
  let app: OrdersTestApp;
  let db: OrdersDb;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    resources = await createTestResources('subscriptions', {
      SUBSCRIPTIONS_DELIVERY_INTERVAL: '50ms',
      SUBSCRIPTIONS_DELIVERY_TIMEOUT: '1s',
      SUBSCRIPTIONS_DELIVERY_BATCH_SIZE: '50',
      SUBSCRIPTIONS_RETRY_INITIAL_DELAY: '50ms',
      SUBSCRIPTIONS_RETRY_MAX_DELAY: '200ms',
      SUBSCRIPTIONS_MAX_CONSECUTIVE_FAILURES: '6',
      SUBSCRIPTIONS_EVENT_RETENTION: '1h',
    });
    app = await startOrdersApp(resources);
    db = new OrdersDb(resources.db.dataSource);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await resources?.cleanup();
  }, 60_000);

  async function receiver(): Promise<Receiver> {
    const started = await new Receiver().start();
    receivers.push(started);
    return started;
  }

  async function subscribe(
    destination: unknown,
    options: { creator?: string; custom?: unknown; state?: string } = {},
  ): Promise<string> {
    const id = randomUUID();
    await db.dataSource.query(
      `INSERT INTO subscriptions (id, creator, events, destination, custom, signing_secret, state)
       VALUES ($1, $2, ARRAY['notification.status', 'order.completed'], $3::jsonb, $4::jsonb, $5, $6)`,
      [
        id,
        options.creator ?? `org-${id.slice(0, 8)}`,
        JSON.stringify(destination),
        options.custom === undefined ? null : JSON.stringify(options.custom),
        SECRET,
        options.state ?? 'active',
      ],
    );
    return id;
  }

  /** `count` status events, recipients r0000@… in the order recorded; returns their event ids in that order. */
  async function addEvents(
    subscriptionId: string,
    count: number,
    createdAgo = '0 seconds',
  ): Promise<string[]> {
    const rows: { event_id: string }[] = await db.dataSource.query(
      `WITH added AS (
       INSERT INTO subscription_events
              (subscription_id, type, order_id, senders_reference, notification_id, recipient_email, status,
               status_time, created)
       SELECT $1, 'notification.status', $2, 'ref', gen_random_uuid(), 'r' || lpad(i::text, 4, '0') || '@example.com',
              'Delivered', now(), now() - $4::interval
         FROM generate_series(0, $3 - 1) i ORDER BY i
       RETURNING event_id, id
       ) SELECT event_id FROM added ORDER BY id`,
      [subscriptionId, randomUUID(), count, createdAgo],
    );
    return rows.map((row) => row.event_id);
  }

  async function subscription(id: string): Promise<SubscriptionRow> {
    const rows: SubscriptionRow[] = await db.dataSource.query(
      `SELECT state, times_sent, fails_counter, last_failure_reason, last_success,
              (SELECT count(*)::int FROM subscription_events e WHERE e.subscription_id = s.id) AS pending
         FROM subscriptions s WHERE id = $1`,
      [id],
    );
    if (rows[0] === undefined) throw new Error(`No subscription ${id}`);
    return rows[0];
  }

  const scrape = async (): Promise<MetricSample[]> =>
    parsePrometheusText(await (await fetch(`${app.managementUrl}/metrics`)).text());

  const operator = (): Record<string, string> => ({
    authorization: `Bearer ${resources.auth.operatorToken()}`,
  });

  it('delivers every event in the order recorded, signed; a redelivered event keeps its eventId', async () => {
    const hooks = await receiver();
    // The third request fails once: its event comes again, with the same eventId, and nothing overtakes it.
    hooks.answer = (_, index) => (index === 2 ? 500 : 200);
    const id = await subscribe({ http: { url: hooks.url } });
    const eventIds = await addEvents(id, 20);

    await expectEventually(async () => expect((await subscription(id)).pending).toBe(0));

    expect(hooks.received).toHaveLength(21);
    expect(hooks.received.every((request) => verifySignature(request))).toBe(true);
    expect(hooks.received.every((request) => request.headers['content-type'] === 'application/json')).toBe(
      true,
    );
    const arrived = hooks.received.map((request) => payloads(request)[0]!.eventId);
    expect(arrived[2]).toBe(eventIds[2]);
    expect(arrived[3]).toBe(eventIds[2]);
    expect([...arrived.slice(0, 3), ...arrived.slice(4)]).toEqual(eventIds);
    expect(hooks.received.map((request) => request.headers['x-notifications-event-id'])).toEqual(arrived);
    expect(
      hooks.received.map((request) => payloads(request)[0]!.recipient?.emailAddress.slice(0, 5)),
    ).toEqual(
      [...Array.from({ length: 3 }, (_, i) => i), 2, ...Array.from({ length: 17 }, (_, i) => i + 3)].map(
        (i) => `r${String(i).padStart(4, '0')}`,
      ),
    );
    expect(await subscription(id)).toMatchObject({
      state: 'active',
      times_sent: '20',
      fails_counter: 0,
      last_failure_reason: 'answered HTTP 500',
    });
  });

  it('sends maxEventsPerRequest events per request as a JSON array, in order', async () => {
    const hooks = await receiver();
    const id = await subscribe({ http: { url: hooks.url, maxEventsPerRequest: 5 } });
    const eventIds = await addEvents(id, 12);

    await expectEventually(async () => expect((await subscription(id)).pending).toBe(0));

    expect(hooks.received.map((request) => payloads(request).length)).toEqual([5, 5, 2]);
    expect(hooks.received.map((request) => request.headers['x-notifications-event-count'])).toEqual([
      '5',
      '5',
      '2',
    ]);
    expect(hooks.received.every((request) => verifySignature(request))).toBe(true);
    expect(hooks.received.flatMap((request) => payloads(request).map((payload) => payload.eventId))).toEqual(
      eventIds,
    );
  });

  it("delivers the default payload of every status change the database records, and the order's completion", async () => {
    const hooks = await receiver();
    const creator = `trig-${randomUUID().slice(0, 8)}`;
    const id = await subscribe({ http: { url: hooks.url } }, { creator });
    // Sent in a day: the scheduler leaves the order and its notifications alone; the test changes their statuses.
    const orderId = await db.insertOrder([{ emailAddress: 'kari.nordmann@example.com' }], {
      creator,
      sendersReference: 'tax-2026',
      requestedSendTime: new Date(Date.now() + 86_400_000),
    });
    const uow = new UnitOfWork(db.dataSource);
    await uow.run(async (tx) => {
      await new EmailNotificationRepository().insertMany(
        tx,
        orderId,
        [
          {
            recipientKey: 'kari.nordmann@example.com',
            toAddress: 'kari.nordmann@example.com',
            result: 'New',
          },
        ],
        new Date(Date.now() + 86_400_000),
      );
      await tx.manager.query(
        `UPDATE email_notifications SET next_attempt_at = now() + interval '1 day' WHERE order_id = $1`,
        [orderId],
      );
    });
    const [{ id: notificationId }] = (await db.dataSource.query(
      'SELECT id FROM email_notifications WHERE order_id = $1',
      [orderId],
    )) as [{ id: string }];
    for (const result of ['Sending', 'Succeeded', 'Delivered']) {
      await db.dataSource.query(
        'UPDATE email_notifications SET result = $2, result_time = clock_timestamp() WHERE id = $1',
        [notificationId, result],
      );
    }
    await db.dataSource.query(`UPDATE orders SET processing_status = 'Processed' WHERE id = $1`, [orderId]);
    await db.dataSource.query(
      `UPDATE orders SET processing_status = 'Completed', status_changed = clock_timestamp() WHERE id = $1`,
      [orderId],
    );

    await expectEventually(() => expect(hooks.received).toHaveLength(5));

    const delivered = hooks.received.map((request) => JSON.parse(request.body) as Record<string, unknown>);
    expect(delivered.map((payload) => payload['status'])).toEqual([
      'New',
      'Sending',
      'Succeeded',
      'Delivered',
      'Completed',
    ]);
    expect(delivered[3]).toEqual({
      eventId: hooks.received[3]!.headers['x-notifications-event-id'],
      subscriptionId: id,
      type: 'notification.status',
      orderId,
      sendersReference: 'tax-2026',
      notificationId,
      channel: 'Email',
      recipient: { emailAddress: 'kari.nordmann@example.com' },
      status: 'Delivered',
      description: EMAIL_RESULT_DESCRIPTIONS.Delivered,
      lastUpdate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(delivered[4]).toMatchObject({
      type: 'order.completed',
      orderId,
      notificationId: null,
      recipient: null,
      status: 'Completed',
      description: ORDER_STATUS_DESCRIPTIONS.Completed,
    });
    expect(hooks.received.map((request) => request.headers['x-notifications-event-type'])).toEqual([
      ...Array.from({ length: 4 }, () => 'notification.status'),
      'order.completed',
    ]);
  });

  it('renders a custom JSON payload with its macros, JSON-escaped', async () => {
    const hooks = await receiver();
    const id = await subscribe(
      { http: { url: hooks.url } },
      { custom: { payload: { text: '${status} for ${recipient}', order: '${orderId}', n: 1 } } },
    );
    await addEvents(id, 1);

    await expectEventually(() => expect(hooks.received).toHaveLength(1));

    expect(JSON.parse(hooks.received[0]!.body)).toEqual({
      text: 'Delivered for r0000@example.com',
      order: expect.stringMatching(/^[0-9a-f-]{36}$/),
      n: 1,
    });
    expect(verifySignature(hooks.received[0]!)).toBe(true);
  });

  it('sends a plain-text custom payload as text/plain, one event per request', async () => {
    const hooks = await receiver();
    const id = await subscribe(
      { http: { url: hooks.url, maxEventsPerRequest: 10 } },
      { custom: { payload: '${status}: ${recipient}' } },
    );
    await addEvents(id, 2);

    await expectEventually(() => expect(hooks.received).toHaveLength(2));

    expect(hooks.received.map((request) => [request.headers['content-type'], request.body])).toEqual([
      ['text/plain; charset=utf-8', 'Delivered: r0000@example.com'],
      ['text/plain; charset=utf-8', 'Delivered: r0001@example.com'],
    ]);
    expect(hooks.received.every((request) => verifySignature(request))).toBe(true);
  });

  it('still delivers the events an expired subscription recorded before it expired', async () => {
    const hooks = await receiver();
    const id = await subscribe({ http: { url: hooks.url } });
    const eventIds = await addEvents(id, 3);
    await db.dataSource.query(
      `UPDATE subscriptions SET expires = now() - interval '1 minute' WHERE id = $1`,
      [id],
    );

    await expectEventually(async () => expect((await subscription(id)).pending).toBe(0));

    expect(hooks.received.map((request) => payloads(request)[0]!.eventId)).toEqual(eventIds);
  });

  it('a receiver down for a while gets everything once it is back: nothing is lost, order is kept', async () => {
    const hooks = await receiver();
    const id = await subscribe({ http: { url: hooks.url } });
    await hooks.stop();
    const eventIds = await addEvents(id, 30);

    // Connection refused, again and again: backed off, still active.
    await expectEventually(async () =>
      expect((await subscription(id)).fails_counter).toBeGreaterThanOrEqual(2),
    );
    const failing = await subscription(id);
    expect(failing.state).toBe('active');
    expect(failing.last_failure_reason).toMatch(/^unreachable: .*ECONNREFUSED/);
    expect(failing.pending).toBe(30);
    await addEvents(id, 10).then((more) => eventIds.push(...more));

    await hooks.start();
    await expectEventually(async () => expect((await subscription(id)).pending).toBe(0));

    expect(hooks.received.map((request) => payloads(request)[0]!.eventId)).toEqual(eventIds);
    expect(await subscription(id)).toMatchObject({ state: 'active', fails_counter: 0, times_sent: '40' });
  });

  it('a dead destination (refused, or never answering) neither slows a healthy one nor blocks status changes', async () => {
    const healthy = await receiver();
    const silent = await receiver();
    silent.answer = () => 'hang';
    const refusing = await receiver();
    await refusing.stop();
    const silentId = await subscribe({ http: { url: silent.url } });
    const refusingId = await subscribe({ http: { url: refusing.url } });
    await addEvents(silentId, 5);
    await addEvents(refusingId, 5);
    // The silent destination holds its subscription (and a slot) for its timeout.
    await expectEventually(() => expect(silent.received.length).toBeGreaterThanOrEqual(1));

    // A status change recording an event for the held subscription does not wait for its delivery round.
    const started = Date.now();
    await addEvents(silentId, 1);
    expect(Date.now() - started).toBeLessThan(500);

    const healthyId = await subscribe({ http: { url: healthy.url } });
    const eventIds = await addEvents(healthyId, 200);
    await expectEventually(async () => expect((await subscription(healthyId)).pending).toBe(0), {
      timeoutMs: 15_000,
    });
    expect(healthy.received.map((request) => payloads(request)[0]!.eventId)).toEqual(eventIds);
    expect((await subscription(silentId)).pending).toBe(6);
    expect((await subscription(refusingId)).pending).toBe(5);
    await expectEventually(async () =>
      expect((await subscription(silentId)).last_failure_reason).toMatch(
        /^timeout: no complete answer within 1000 ms/,
      ),
    );
    // Only the first event was ever tried, again after each back-off: nothing overtook it.
    const tried = new Set(silent.received.map((request) => payloads(request)[0]!.recipient?.emailAddress));
    expect([...tried]).toEqual(['r0000@example.com']);
    await db.dataSource.query('DELETE FROM subscriptions WHERE id = ANY($1::uuid[])', [
      [silentId, refusingId],
    ]);
  });

  it('fails a subscription after SUBSCRIPTIONS_MAX_CONSECUTIVE_FAILURES, shows it to operators, and a replay delivers', async () => {
    const hooks = await receiver();
    hooks.answer = () => 503;
    const id = await subscribe({ http: { url: hooks.url } });
    const eventIds = await addEvents(id, 3);

    await expectEventually(async () => expect((await subscription(id)).state).toBe('failed'));
    const failed = await subscription(id);
    expect(failed).toMatchObject({ fails_counter: 6, last_failure_reason: 'answered HTTP 503', pending: 3 });
    const attempts = hooks.received.length;
    expect(attempts).toBe(6);

    const list = await fetch(`${app.managementUrl}/notifications/api/v1/internal/subscriptions`, {
      headers: operator(),
    });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('path-secret');
    expect(text).not.toContain('@example.com');
    const listed = (JSON.parse(text) as { subscriptions: Record<string, unknown>[] }).subscriptions.find(
      (s) => s['id'] === id,
    );
    expect(listed).toMatchObject({
      status: 'failed',
      destination: hooks.label,
      pending: 3,
      failsCounter: 6,
      lastFailureReason: 'answered HTTP 503',
      oldestPendingAt: expect.any(String),
    });
    // No token, no list.
    expect((await fetch(`${app.managementUrl}/notifications/api/v1/internal/subscriptions`)).status).toBe(
      401,
    );
    hooks.answer = () => 200;
    const replay = await fetch(
      `${app.managementUrl}/notifications/api/v1/internal/subscriptions/${id}/replay`,
      {
        method: 'POST',
        headers: operator(),
      },
    );
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ subscription: { id, status: 'active', failsCounter: 0 } });
    await expectEventually(async () => expect((await subscription(id)).pending).toBe(0));
    // Exactly the three events after the replay: a failed subscription was not tried in between.
    expect(hooks.received.slice(attempts).map((request) => payloads(request)[0]!.eventId)).toEqual(eventIds);
    expect(
      (
        await fetch(
          `${app.managementUrl}/notifications/api/v1/internal/subscriptions/${randomUUID()}/replay`,
          {
            method: 'POST',
            headers: operator(),
          },
        )
      ).status,
    ).toBe(404);
  });

  it('drops undelivered events after SUBSCRIPTIONS_EVENT_RETENTION and counts them', async () => {
    const id = await subscribe({ http: { url: 'http://127.0.0.1:9/never' } }, { state: 'failed' });
    await addEvents(id, 4, '2 hours');
    await addEvents(id, 2);

    await expectEventually(async () => expect((await subscription(id)).pending).toBe(2));
    await expectEventually(async () =>
      expect(
        sampleValue(await scrape(), 'notifications_subscription_events_dropped_total'),
      ).toBeGreaterThanOrEqual(4),
    );
    await db.dataSource.query('DELETE FROM subscriptions WHERE id = $1', [id]);
  });

  it('shows sent, failed and pending per destination in /metrics', async () => {
    const hooks = await receiver();
    hooks.answer = (_, index) => (index === 0 ? 500 : 200);
    const destination = { destination: hooks.label };
    // Counters live as long as the process: a port an earlier test's receiver had may come round again.
    const before = await scrape();
    const sentBefore = sampleValue(before, 'notifications_subscription_events_sent_total', destination);
    const failedBefore = sampleValue(before, 'notifications_subscription_events_failed_total', destination);
    const id = await subscribe({ http: { url: hooks.url } });
    await addEvents(id, 4);
    await expectEventually(async () => expect((await subscription(id)).pending).toBe(0));
    const waiting = await subscribe(
      { http: { url: hooks.url.replace('/hooks', '/other') } },
      { state: 'failed' },
    );
    await addEvents(waiting, 3);

    await expectEventually(async () => {
      const samples = await scrape();
      expect(sampleValue(samples, 'notifications_subscription_events_sent_total', destination)).toBe(
        sentBefore + 4,
      );
      expect(sampleValue(samples, 'notifications_subscription_events_failed_total', destination)).toBe(
        failedBefore + 1,
      );
      expect(sampleValue(samples, 'notifications_subscription_events_pending', destination)).toBe(3);
      expect(
        sampleValue(samples, 'notifications_subscription_oldest_pending_seconds', destination),
      ).toBeGreaterThan(0);
      expect(samples.some((sample) => /path-secret|hooks/.test(sample.labels['destination'] ?? ''))).toBe(
        false,
      );
      expect(hasSample(samples, 'notifications_subscription_events_pending')).toBe(true);
    });
    await db.dataSource.query('DELETE FROM subscriptions WHERE id = $1', [waiting]);
  });
});
