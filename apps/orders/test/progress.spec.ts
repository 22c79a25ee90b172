import {
  ACS_EMAIL_RESOURCE,
  EmailContract,
  GenericServiceUpdateContract,
  SendOperationResultContract,
  resourceLimitExceeded,
  type SendOperationResult,
  OrderProgressResponse,
  readServerSentEvents,
} from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { type ReceivedRecord } from '@notifications/messaging/testing';
import { OrderProgressService } from '../src/progress/order-progress.service';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

/**
 * A snapshot, checked against its schema. Unlike the reference's models (absent, never null), a snapshot has
 * every field every time: `etaSeconds` and `rateLimitPausedUntil` are null when there is none.
 */
function progressOf(value: unknown): OrderProgressResponse {
  return OrderProgressResponse.strict().parse(value);
}

interface ReceivedEvent {
  readonly id: number;
  readonly snapshot: OrderProgressResponse;
  readonly atMs: number;
}

/** A progress stream read by a test: what arrived so far, and its end. */
interface OpenStream {
  readonly status: number;
  readonly contentType: string;
  readonly events: ReceivedEvent[];
  readonly comments: string[];
  readonly retries: number[];
  /** Resolves when the server ends the response (or the test aborts it). */
  readonly ended: Promise<void>;
  abort(): void;
}

async function openStream(url: string, token: string, lastEventId?: number): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }),
    },
    signal: controller.signal,
  });
  const events: ReceivedEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const read = async () => {
    if (response.body === null) return;
    try {
      for await (const item of readServerSentEvents(response.body)) {
        if (item.kind === 'event') {
          events.push({
            id: Number(item.id),
            snapshot: progressOf(JSON.parse(item.data)),
            atMs: Date.now(),
          });
        } else if (item.kind === 'comment') comments.push(item.text);
        else retries.push(item.ms);
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  };
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    events,
    comments,
    retries,
    ended: response.ok ? read() : response.text().then(() => undefined),
    abort: () => controller.abort(),
  };
}

describe('order progress (GET /orders/{id}/progress, JSON and Server-Sent Events)', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let emails: ReceivedRecord[];
  let api: ApiClient;
  let operator: ApiClient;

  beforeAll(async () => {
    resources = await createTestResources('progress', {
      // A fast poll, but no more than 4 events a second: the throttle, not the poll, bounds the event rate.
      ORDERS_PROGRESS_POLL_INTERVAL: '50ms',
      ORDERS_PROGRESS_MAX_EVENTS_PER_SECOND: '4',
      ORDERS_PROGRESS_HEARTBEAT: '200ms',
      ORDERS_PROGRESS_RETRY: '1500ms',
      ORDERS_PROGRESS_MAX_STREAMS: '5',
      ORDERS_PROGRESS_MAX_STREAMS_PER_CALLER: '2',
    });
    server = await startOrdersApp(resources);
    emails = await resources.kafka.read([resources.topics.emailQueue.name]);
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    operator = new ApiClient(server.managementUrl, resources.auth.operatorToken());
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  const progressService = () => server.app.get(OrderProgressService);
  const publicUrl = (orderId: string) => `${server.baseUrl}${API}/orders/${orderId}/progress`;
  const operatorUrl = (orderId: string) =>
    `${server.managementUrl}${API}/internal/orders/${orderId}/progress`;

  /** Places an order of `addresses` and waits until each of its emails is on email.queue; their ids. */
  async function orderInFlight(label: string, count: number, extra: Record<string, unknown>[] = []) {
    const addresses = Array.from({ length: count }, (_, i) => `${label}-${i}@example.com`);
    const created = await api.post<{ orderId: string }>(
      `${API}/orders/email`,
      emailOrder({ recipients: [...addresses.map((emailAddress) => ({ emailAddress })), ...extra] }),
    );
    expect(created.status).toBe(202);
    const ids = await expectEventually(() => {
      const mine = emails
        .map((record) => EmailContract.parse(record.value ?? null))
        .filter((email) => email.toAddress.startsWith(`${label}-`));
      expect(mine).toHaveLength(count);
      return mine.map((email) => email.notificationId);
    });
    return { orderId: created.body.orderId, ids };
  }

  async function report(updates: SendOperationResult[]): Promise<void> {
    await resources.kafka.produceRaw(
      resources.topics.emailStatusUpdated.name,
      updates.map((update) => ({
        key: resources.topics.emailStatusUpdated.keyOf(update) ?? '',
        value: SendOperationResultContract.serialize(update),
      })),
    );
  }

  const delivered = (ids: readonly string[]): SendOperationResult[] =>
    ids.map((id) => ({ notificationId: id, operationId: id, sendResult: 'Delivered' }));

  it('answers a JSON snapshot with the counts per status, to the creator only', async () => {
    // Three addresses and a reserved person (Failed_RecipientReserved, final at once).
    const { orderId, ids } = await orderInFlight('json', 3, [{ nationalIdentityNumber: '02028012345' }]);
    await report(delivered(ids.slice(0, 1)));

    const snapshot = await expectEventually(async () => {
      const response = await api.get(`${API}/orders/${orderId}/progress`);
      expect(response.status).toBe(200);
      expect(response.contentType).toMatch(/^application\/json/);
      const body = progressOf(response.body);
      expect(body).toMatchObject({
        orderId,
        orderStatus: 'Processed',
        total: 4,
        final: 2,
        counts: { Sending: 2, Delivered: 1, Failed_RecipientReserved: 1 },
        rateLimitPausedUntil: null,
      });
      return body;
    });
    expect(Object.keys(snapshot.counts).sort()).toEqual(['Delivered', 'Failed_RecipientReserved', 'Sending']);
    expect(snapshot.ratePerSecond).toBeGreaterThan(0);
    expect(snapshot.etaSeconds).not.toBeNull();
    expect(Math.abs(Date.parse(snapshot.updatedAt) - Date.now())).toBeLessThan(60_000);

    // Another organisation, an id that is not a UUID, no token.
    const stranger = api.as(resources.auth.token('nav'));
    expect((await stranger.get(`${API}/orders/${orderId}/progress`)).status).toBe(404);
    const strangerStream = await openStream(publicUrl(orderId), resources.auth.token('nav'));
    expect(strangerStream.status).toBe(404);
    await strangerStream.ended;
    expect((await api.get(`${API}/orders/not-a-uuid/progress`)).status).toBe(404);
    expect((await api.as(undefined).get(`${API}/orders/${orderId}/progress`)).status).toBe(401);

    // Operators see any order's progress on the management listener only.
    const operatorView = await operator.get(`${API}/internal/orders/${orderId}/progress`);
    expect(operatorView.status).toBe(200);
    expect(progressOf(operatorView.body).counts).toEqual(snapshot.counts);
    expect((await operator.as(undefined).get(`${API}/internal/orders/${orderId}/progress`)).status).toBe(401);
    expect(
      (
        await new ApiClient(server.baseUrl, resources.auth.operatorToken()).get(
          `${API}/internal/orders/${orderId}/progress`,
        )
      ).status,
    ).toBe(404);
  });

  it('streams snapshots with increasing ids and ends with the final one; Last-Event-ID does not resend', async () => {
    const { orderId, ids } = await orderInFlight('stream', 4);
    const stream = await openStream(publicUrl(orderId), resources.auth.token('ttd'));
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    await expectEventually(() => expect(stream.events.length).toBeGreaterThanOrEqual(1));
    expect(stream.retries).toEqual([1500]);
    expect(stream.events[0]!.snapshot).toMatchObject({ orderStatus: 'Processed', total: 4, final: 0 });

    await report(ids.map((id) => ({ notificationId: id, operationId: id, sendResult: 'Succeeded' })));
    await expectEventually(() => expect(stream.events.at(-1)!.snapshot.counts).toEqual({ Succeeded: 4 }));
    await report(delivered(ids));
    await stream.ended;

    const received = stream.events;
    const last = received.at(-1)!;
    expect(last.snapshot).toMatchObject({
      orderStatus: 'Completed',
      total: 4,
      final: 4,
      counts: { Delivered: 4 },
      etaSeconds: null,
    });
    // The first snapshot, the one with every notification Succeeded, the final one (and any in between).
    expect(received.length).toBeGreaterThanOrEqual(3);
    const versions = received.map((event) => event.id);
    expect(versions.every((id) => Number.isSafeInteger(id))).toBe(true);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);

    // Reconnecting with the last id: nothing new, so nothing is sent and the stream ends (the order is final).
    const resumed = await openStream(publicUrl(orderId), resources.auth.token('ttd'), last.id);
    expect(resumed.status).toBe(200);
    await resumed.ended;
    expect(resumed.events).toEqual([]);
    // With an earlier id: only the final snapshot, once.
    const behind = await openStream(publicUrl(orderId), resources.auth.token('ttd'), versions[0]);
    await behind.ended;
    expect(behind.events.map((event) => event.id)).toEqual([last.id]);
    expect(behind.events[0]!.snapshot.orderStatus).toBe('Completed');
    // The operators' stream is the same code and ends the same way.
    const operatorStream = await openStream(operatorUrl(orderId), resources.auth.operatorToken());
    await operatorStream.ended;
    expect(operatorStream.events.map((event) => event.snapshot.orderStatus)).toEqual(['Completed']);
    await expectEventually(() =>
      expect(progressService().activity()).toEqual({ streams: 0, watchedOrders: 0 }),
    );
  });

  it('sends at most 4 events a second however often the progress changes', async () => {
    const { orderId, ids } = await orderInFlight('throttle', 24);
    const stream = await openStream(publicUrl(orderId), resources.auth.token('ttd'));
    await expectEventually(() => expect(stream.events.length).toBeGreaterThanOrEqual(1));
    // One change every ~50 ms (the poll interval) for over a second: far more changes than events allowed.
    const started = Date.now();
    for (const id of ids) {
      await report(delivered([id]));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stream.ended;
    const elapsedSeconds = (Date.now() - started) / 1000;
    const events = stream.events;
    expect(events.at(-1)!.snapshot.orderStatus).toBe('Completed');
    // More than one change got through, but never two events closer than the throttle (250 ms) allows; a
    // little slack for the network between the server's clock and ours.
    expect(events.length).toBeGreaterThan(2);
    expect(events.length).toBeLessThanOrEqual(Math.ceil(elapsedSeconds * 4) + 2);
    const gaps = events.slice(1).map((event, i) => event.atMs - events[i]!.atMs);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
  });

  it('shares one poll loop per order, sends heartbeats, and cleans up when clients disconnect', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const created = await api.post<{ orderId: string }>(
      `${API}/orders/email`,
      emailOrder({ requestedSendTime: future }),
    );
    const orderId = created.body.orderId;
    const first = await openStream(publicUrl(orderId), resources.auth.token('ttd'));
    const second = await openStream(operatorUrl(orderId), resources.auth.operatorToken());
    expect(progressService().activity()).toEqual({ streams: 2, watchedOrders: 1 });
    const metrics = await (await fetch(`${server.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(/^notifications_progress_streams\{[^}]*\} 2$/m);
    expect(metrics).toMatch(/^notifications_progress_watched_orders\{[^}]*\} 1$/m);
    await expectEventually(() => {
      expect(first.events.map((event) => event.snapshot.orderStatus)).toEqual(['Registered']);
      expect(first.comments.length).toBeGreaterThanOrEqual(2);
      expect(second.comments.length).toBeGreaterThanOrEqual(2);
    });
    expect(first.events[0]!.snapshot).toMatchObject({ total: 0, final: 0, counts: {}, etaSeconds: null });

    first.abort();
    await first.ended;
    await expectEventually(() =>
      expect(progressService().activity()).toEqual({ streams: 1, watchedOrders: 1 }),
    );
    second.abort();
    await second.ended;
    await expectEventually(() =>
      expect(progressService().activity()).toEqual({ streams: 0, watchedOrders: 0 }),
    );
  });

  it('refuses streams beyond the limits: 429 per caller, 503 per process, as problem details', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const orderOf = async (org: string) =>
      (
        await api
          .as(resources.auth.token(org))
          .post<{ orderId: string }>(`${API}/orders/email`, emailOrder({ requestedSendTime: future }))
      ).body.orderId;
    const ttdOrder = await orderOf('ttd');
    const navOrder = await orderOf('nav');
    const open = [
      await openStream(publicUrl(ttdOrder), resources.auth.token('ttd')),
      await openStream(publicUrl(ttdOrder), resources.auth.token('ttd')),
    ];
    const third = await api.request('GET', `${API}/orders/${ttdOrder}/progress`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(third.status).toBe(429);
    expect(third.contentType).toMatch(/^application\/problem\+json/);
    expect(third.headers.get('retry-after')).toBe('5');
    // A JSON snapshot is no stream: still answered.
    expect((await api.get(`${API}/orders/${ttdOrder}/progress`)).status).toBe(200);

    open.push(await openStream(publicUrl(navOrder), resources.auth.token('nav')));
    open.push(await openStream(publicUrl(navOrder), resources.auth.token('nav')));
    open.push(await openStream(operatorUrl(navOrder), resources.auth.operatorToken()));
    expect(open.map((stream) => stream.status)).toEqual([200, 200, 200, 200, 200]);
    const full = await operator.request('GET', `${API}/internal/orders/${navOrder}/progress`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(full.status).toBe(503);
    expect(full.contentType).toMatch(/^application\/problem\+json/);

    for (const stream of open) stream.abort();
    await Promise.all(open.map((stream) => stream.ended));
    await expectEventually(() =>
      expect(progressService().activity()).toEqual({ streams: 0, watchedOrders: 0 }),
    );
  });

  it('puts an active rate-limit pause into the ETA', async () => {
    const { orderId, ids } = await orderInFlight('eta', 4);
    await report(delivered(ids.slice(0, 2)));
    await expectEventually(async () =>
      expect((await api.get<OrderProgressResponse>(`${API}/orders/${orderId}/progress`)).body.final).toBe(2),
    );
    // ACS throttles: the platform announces a pause of ten minutes.
    const resetTime = new Date(Date.now() + 600_000);
    await resources.kafka.produceRaw(resources.topics.platformServiceUpdated.name, [
      {
        key: 'platform-notifications-email',
        value: GenericServiceUpdateContract.serialize(resourceLimitExceeded(resetTime)),
      },
    ]);
    try {
      const snapshot = await expectEventually(async () => {
        const body = progressOf((await api.get(`${API}/orders/${orderId}/progress`)).body);
        expect(body.rateLimitPausedUntil).not.toBeNull();
        return body;
      });
      const pauseSeconds =
        (Date.parse(snapshot.rateLimitPausedUntil!) - Date.parse(snapshot.updatedAt)) / 1000;
      expect(pauseSeconds).toBeGreaterThan(590);
      expect(snapshot.ratePerSecond).toBeGreaterThan(0);
      // The remaining pause, then the two unfinished notifications at the measured rate.
      const expected = pauseSeconds + 2 / snapshot.ratePerSecond;
      expect(snapshot.etaSeconds).not.toBeNull();
      expect(snapshot.etaSeconds!).toBeGreaterThanOrEqual(Math.floor(expected * 0.98));
      expect(snapshot.etaSeconds!).toBeLessThanOrEqual(Math.ceil(expected * 1.02) + 1);
    } finally {
      await operator.request('DELETE', `${API}/internal/rate-limit`);
      await resources.db.dataSource.query('DELETE FROM rate_limit_pauses WHERE resource = $1', [
        ACS_EMAIL_RESOURCE,
      ]);
    }
  });

  // Last: it stops the app.
  it('ends open streams when the app stops, so that its listeners can close', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const created = await api.post<{ orderId: string }>(
      `${API}/orders/email`,
      emailOrder({ requestedSendTime: future }),
    );
    const stream = await openStream(publicUrl(created.body.orderId), resources.auth.token('ttd'));
    await expectEventually(() => expect(stream.events).toHaveLength(1));
    await server.close();
    await stream.ended;
    expect(progressService().activity()).toEqual({ streams: 0, watchedOrders: 0 });
  });
});
