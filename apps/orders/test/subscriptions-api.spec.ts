import { randomUUID } from 'node:crypto';
import { type z } from 'zod';
import {
  CreatedSubscriptionResponse,
  ProblemDetailsResponse,
  SubscriptionListResponse,
  SubscriptionResponse,
} from '@notifications/contracts';
import {
  API,
  ApiClient,
  createTestResources,
  startOrdersApp,
  type HttpResult,
} from './support/orders-test-app';
import { type OrdersTestApp, type OrdersTestResources } from './support/orders-test-app';

const MAX_PER_CREATOR = 3;
const SECRET = /^[A-Za-z0-9_-]{43}$/; // base64url of 32 bytes, unpadded

const httpSubscription = (overrides: Record<string, unknown> = {}) => ({
  events: ['notification.status'],
  notification: { http: { url: 'https://hooks.example.no/notify' } },
  ...overrides,
});

const kafkaSubscription = (overrides: Record<string, unknown> = {}) => ({
  events: ['notification.status', 'order.completed'],
  notification: {
    kafka: {
      url: 'kafka://b1.example.no:9092,b2.example.no:9092',
      topic: 'notify-events',
      sasl: { mechanism: 'scram-sha-256', username: 'svc', password: 'kafka-password-never-shown' },
      tls: { ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
    },
  },
  ...overrides,
});

type Problem = z.infer<typeof ProblemDetailsResponse>;

function expectProblem(response: HttpResult, status: number): Problem {
  expect(response.status).toBe(status);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  return ProblemDetailsResponse.parse(response.body);
}

describe('subscriptions REST API', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let anonymous: ApiClient;

  beforeAll(async () => {
    resources = await createTestResources('subscriptions_api', {
      ORDERS_SCHEDULER_ENABLED: 'false',
      SUBSCRIPTIONS_MAX_PER_CREATOR: String(MAX_PER_CREATOR),
    });
    server = await startOrdersApp(resources);
    anonymous = new ApiClient(server.baseUrl);
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  /** A client of an organisation of the test's own: the per-creator limit counts per test. */
  const asNewOrg = (): ApiClient => anonymous.as(resources.auth.token(`org${randomUUID().slice(0, 8)}`));

  async function create(client: ApiClient, body: unknown): Promise<CreatedSubscriptionResponse> {
    const response = await client.post(`${API}/subscriptions`, body);
    expect(response.status).toBe(201);
    return CreatedSubscriptionResponse.parse(response.body);
  }

  const sql = <T>(text: string, parameters: unknown[] = []): Promise<T[]> =>
    resources.db.dataSource.query(text, parameters);

  describe('POST /subscriptions', () => {
    it('creates an HTTP subscription: 201, Location, the view with every field, and the secret', async () => {
      const client = asNewOrg();
      const before = Date.now();
      const response = await client.post(
        `${API}/subscriptions`,
        httpSubscription({
          description: 'tax campaign callbacks',
          filter: { sendersReference: 'tax-2026', resourceId: 'urn:altinn:resource:tax' },
          events: ['notification.status', 'order.completed'],
          custom: { payload: { order: '${orderId}', status: '${status}' } },
          expires: '2099-01-01T01:00:00+01:00',
        }),
      );
      expect(response.status).toBe(201);
      const created = CreatedSubscriptionResponse.parse(response.body);
      expect(response.headers.get('location')).toBe(`${server.baseUrl}${API}/subscriptions/${created.id}`);
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        description: 'tax campaign callbacks',
        filter: { sendersReference: 'tax-2026', resourceId: 'urn:altinn:resource:tax' },
        events: ['notification.status', 'order.completed'],
        notification: { http: { url: 'https://hooks.example.no/notify', maxEventsPerRequest: 1 } },
        custom: { payload: { order: '${orderId}', status: '${status}' }, topic: null },
        expires: '2099-01-01T00:00:00.000Z',
        created: expect.any(String),
        status: 'active',
        timesSent: 0,
        lastNotification: null,
        lastSuccess: null,
        lastFailure: null,
        lastFailureReason: null,
        failsCounter: 0,
        pendingEvents: 0,
        secret: expect.stringMatching(SECRET),
      });
      expect(Date.parse(created.created)).toBeGreaterThanOrEqual(before - 1_000);
      // The secret the deliveries sign with is the one shown.
      const [stored] = await sql<{ signing_secret: string }>(
        'SELECT signing_secret FROM subscriptions WHERE id = $1',
        [created.id],
      );
      expect(stored?.signing_secret).toBe(created.secret);
    });

    it('shows the secret only once: GET and the list show neither it nor the SASL password', async () => {
      const client = asNewOrg();
      const created = await create(client, kafkaSubscription());
      expect(created.secret).toMatch(SECRET);
      const one = await client.get(`${API}/subscriptions/${created.id}`);
      const all = await client.get(`${API}/subscriptions`);
      for (const text of [JSON.stringify(created), JSON.stringify(one.body), JSON.stringify(all.body)]) {
        expect(text).not.toContain('kafka-password-never-shown');
      }
      for (const text of [JSON.stringify(one.body), JSON.stringify(all.body)]) {
        expect(text).not.toContain(created.secret);
        expect(text).not.toContain('"secret"');
      }
      expect(SubscriptionResponse.parse(one.body).notification).toEqual({
        kafka: {
          url: 'kafka://b1.example.no:9092,b2.example.no:9092',
          topic: 'notify-events',
          sasl: { mechanism: 'scram-sha-256', username: 'svc' },
          tls: {
            ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
            rejectUnauthorized: true,
          },
        },
      });
      // Stored for the delivery step, which needs it.
      const [stored] = await sql<{ destination: { kafka: { sasl: { password: string } } } }>(
        'SELECT destination FROM subscriptions WHERE id = $1',
        [created.id],
      );
      expect(stored?.destination.kafka.sasl.password).toBe('kafka-password-never-shown');
    });

    it('gives every subscription its own secret', async () => {
      const client = asNewOrg();
      const first = await create(client, httpSubscription());
      const second = await create(client, httpSubscription());
      expect(first.secret).not.toBe(second.secret);
    });

    it.each([
      ['an unknown event type', httpSubscription({ events: ['notification.sent'] }), 'events[0]'],
      ['no event type', httpSubscription({ events: [] }), 'events'],
      [
        'both destinations',
        httpSubscription({
          notification: { ...httpSubscription().notification, ...kafkaSubscription().notification },
        }),
        'notification',
      ],
      ['no destination', httpSubscription({ notification: {} }), 'notification'],
      [
        'a URL of another scheme',
        httpSubscription({ notification: { http: { url: 'ftp://hooks.example.no/' } } }),
        'notification.http.url',
      ],
      [
        'a URL the outbound guard refuses (cloud metadata)',
        httpSubscription({ notification: { http: { url: 'http://169.254.169.254/latest/meta-data' } } }),
        'notification.http.url',
      ],
      [
        'a broker the outbound guard refuses (private, not allow-listed)',
        kafkaSubscription({ notification: { kafka: { url: 'kafka://10.0.0.1:9092', topic: 'events' } } }),
        'notification.kafka.url',
      ],
      [
        'a malformed Kafka URL',
        kafkaSubscription({ notification: { kafka: { url: 'https://b1:9092', topic: 'events' } } }),
        'notification.kafka.url',
      ],
      [
        'an unknown macro in the payload',
        httpSubscription({ custom: { payload: { id: '${orderID}' } } }),
        'custom.payload',
      ],
      [
        'a topic template with a macro that is not topic-safe',
        kafkaSubscription({ custom: { topic: 'events.${sendersReference}' } }),
        'custom.topic',
      ],
      [
        'a topic template with characters Kafka refuses',
        kafkaSubscription({ custom: { topic: 'events/${orderId}' } }),
        'custom.topic',
      ],
      ['an expiry in the past', httpSubscription({ expires: '2020-01-01T00:00:00Z' }), 'expires'],
    ])('answers 400 naming the field for %s', async (_case, body, field) => {
      const problem = expectProblem(await asNewOrg().post(`${API}/subscriptions`, body), 400);
      expect(Object.keys(problem.errors ?? {})).toContain(field);
    });

    it("gives the guard's reason for a refused URL", async () => {
      const problem = expectProblem(
        await asNewOrg().post(
          `${API}/subscriptions`,
          httpSubscription({ notification: { http: { url: 'http://169.254.169.254/' } } }),
        ),
        400,
      );
      expect(problem.errors).toEqual({
        'notification.http.url': [
          'points to a link-local address, which is refused (not on the outbound allow-list)',
        ],
      });
    });

    it('accepts a loopback receiver and broker in test (the development allow-list)', async () => {
      const client = asNewOrg();
      await create(
        client,
        httpSubscription({ notification: { http: { url: 'http://127.0.0.1:8080/hook' } } }),
      );
      await create(
        client,
        kafkaSubscription({
          notification: { kafka: { url: 'kafka://localhost:9092,127.0.0.1:9093', topic: 't' } },
        }),
      );
    });

    it('answers 415 for a body that is not JSON', async () => {
      const response = await asNewOrg().request('POST', `${API}/subscriptions`, {
        body: 'events=notification.status',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(response, 415);
    });

    it(`refuses more than ${MAX_PER_CREATOR} subscriptions per organisation with 409, and accepts one after a delete`, async () => {
      const client = asNewOrg();
      const ids: string[] = [];
      for (let n = 0; n < MAX_PER_CREATOR; n += 1) ids.push((await create(client, httpSubscription())).id);
      const refused = expectProblem(await client.post(`${API}/subscriptions`, httpSubscription()), 409);
      expect(refused.detail).toMatch(/as many as allowed/);
      // Another organisation is not affected.
      await create(asNewOrg(), httpSubscription());
      expect((await client.request('DELETE', `${API}/subscriptions/${ids[0]}`)).status).toBe(204);
      await create(client, httpSubscription());
    });

    it('answers 401 without a token', async () => {
      expectProblem(await anonymous.post(`${API}/subscriptions`, httpSubscription()), 401);
      expectProblem(await anonymous.get(`${API}/subscriptions`), 401);
    });
  });

  describe('GET /subscriptions and /subscriptions/{id}', () => {
    it("lists the caller's own subscriptions, newest first, and no other organisation's", async () => {
      const mine = asNewOrg();
      const theirs = asNewOrg();
      const first = await create(mine, httpSubscription({ description: 'first' }));
      const second = await create(mine, kafkaSubscription({ description: 'second' }));
      const other = await create(theirs, httpSubscription({ description: 'theirs' }));

      const list = SubscriptionListResponse.parse((await mine.get(`${API}/subscriptions`)).body);
      expect(list.count).toBe(2);
      expect(list.subscriptions.map((subscription) => subscription.id)).toEqual([second.id, first.id]);
      const { secret: _secret, ...view } = first;
      expect(list.subscriptions[1]).toEqual(view);

      const theirList = SubscriptionListResponse.parse((await theirs.get(`${API}/subscriptions`)).body);
      expect(theirList.subscriptions.map((subscription) => subscription.id)).toEqual([other.id]);
      const none = SubscriptionListResponse.parse((await asNewOrg().get(`${API}/subscriptions`)).body);
      expect(none).toEqual({ count: 0, subscriptions: [] });
    });

    it("answers 404 for another organisation's subscription, as for an unknown or malformed id", async () => {
      const created = await create(asNewOrg(), httpSubscription());
      const stranger = asNewOrg();
      const own = expectProblem(await stranger.get(`${API}/subscriptions/${created.id}`), 404);
      const unknown = expectProblem(await stranger.get(`${API}/subscriptions/${randomUUID()}`), 404);
      expectProblem(await stranger.get(`${API}/subscriptions/not-a-uuid`), 404);
      expect(Object.keys(own)).toEqual(Object.keys(unknown));
      expectProblem(await stranger.request('DELETE', `${API}/subscriptions/${created.id}`), 404);
      expectProblem(await stranger.put(`${API}/subscriptions/${created.id}/resume`), 404);
      // Untouched by the stranger's attempts.
      expect((await sql('SELECT 1 FROM subscriptions WHERE id = $1', [created.id])).length).toBe(1);
    });

    it('shows the delivery record and counts the pending events', async () => {
      const client = asNewOrg();
      const created = await create(client, httpSubscription());
      await sql(
        `UPDATE subscriptions SET times_sent = 7, last_notification = '2026-03-16T08:00:02Z',
                last_success = '2026-03-16T08:00:00Z', last_failure = '2026-03-16T08:00:02Z',
                last_failure_reason = 'HTTP 503', fails_counter = 1
          WHERE id = $1`,
        [created.id],
      );
      await sql(
        `INSERT INTO subscription_events (subscription_id, type, order_id, status, status_time)
         SELECT $1, 'order.completed', gen_random_uuid(), 'Completed', now() FROM generate_series(1, 2)`,
        [created.id],
      );
      const view = SubscriptionResponse.parse((await client.get(`${API}/subscriptions/${created.id}`)).body);
      expect(view).toMatchObject({
        status: 'active',
        timesSent: 7,
        lastNotification: '2026-03-16T08:00:02.000Z',
        lastSuccess: '2026-03-16T08:00:00.000Z',
        lastFailure: '2026-03-16T08:00:02.000Z',
        lastFailureReason: 'HTTP 503',
        failsCounter: 1,
        pendingEvents: 2,
      });
    });

    it('shows a subscription whose expiry has passed as expired', async () => {
      const client = asNewOrg();
      const created = await create(client, httpSubscription({ expires: '2099-01-01T00:00:00Z' }));
      await sql("UPDATE subscriptions SET expires = now() - interval '1 second' WHERE id = $1", [created.id]);
      const view = SubscriptionResponse.parse((await client.get(`${API}/subscriptions/${created.id}`)).body);
      expect(view.status).toBe('expired');
    });
  });

  describe('DELETE /subscriptions/{id}', () => {
    it('deletes the subscription and its pending events: 204, then 404', async () => {
      const client = asNewOrg();
      const created = await create(client, httpSubscription());
      await sql(
        `INSERT INTO subscription_events (subscription_id, type, order_id, status, status_time)
         VALUES ($1, 'order.completed', gen_random_uuid(), 'Completed', now())`,
        [created.id],
      );
      const deleted = await client.request('DELETE', `${API}/subscriptions/${created.id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBe('');
      expectProblem(await client.get(`${API}/subscriptions/${created.id}`), 404);
      expectProblem(await client.request('DELETE', `${API}/subscriptions/${created.id}`), 404);
      expect(await sql('SELECT 1 FROM subscription_events WHERE subscription_id = $1', [created.id])).toEqual(
        [],
      );
    });
  });

  describe('PUT /subscriptions/{id}/resume', () => {
    it('makes a failed subscription active again, its failures reset and its events due now', async () => {
      const client = asNewOrg();
      const created = await create(client, httpSubscription());
      await sql(
        `UPDATE subscriptions SET state = 'failed', fails_counter = 20, last_failure = now(),
                last_failure_reason = 'connect ECONNREFUSED', next_attempt_at = now() + interval '1 hour'
          WHERE id = $1`,
        [created.id],
      );
      const failed = SubscriptionResponse.parse(
        (await client.get(`${API}/subscriptions/${created.id}`)).body,
      );
      expect(failed).toMatchObject({ status: 'failed', failsCounter: 20 });

      const resumed = await client.put(`${API}/subscriptions/${created.id}/resume`);
      expect(resumed.status).toBe(200);
      expect(SubscriptionResponse.parse(resumed.body)).toMatchObject({
        id: created.id,
        status: 'active',
        failsCounter: 0,
        // The failure's record stays: it is history.
        lastFailureReason: 'connect ECONNREFUSED',
      });
      const [row] = await sql<{ due: boolean }>(
        'SELECT next_attempt_at <= now() AS due FROM subscriptions WHERE id = $1',
        [created.id],
      );
      expect(row?.due).toBe(true);
    });

    it('leaves an active subscription as it is (200, no change)', async () => {
      const client = asNewOrg();
      const created = await create(client, httpSubscription());
      await sql(
        "UPDATE subscriptions SET fails_counter = 2, next_attempt_at = now() + interval '1 hour' WHERE id = $1",
        [created.id],
      );
      const resumed = await client.put(`${API}/subscriptions/${created.id}/resume`);
      expect(resumed.status).toBe(200);
      expect(SubscriptionResponse.parse(resumed.body)).toMatchObject({ status: 'active', failsCounter: 2 });
      const [row] = await sql<{ due: boolean }>(
        'SELECT next_attempt_at <= now() AS due FROM subscriptions WHERE id = $1',
        [created.id],
      );
      expect(row?.due).toBe(false);
    });
  });

  describe('OpenAPI', () => {
    it('documents the subscription resource at /docs-json', async () => {
      const document = await anonymous.get<{
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: Record<string, unknown> };
      }>('/docs-json');
      expect(document.status).toBe(200);
      const { paths, components } = document.body;
      expect(Object.keys(paths[`${API}/subscriptions`] ?? {}).sort()).toEqual(['get', 'post']);
      expect(Object.keys(paths[`${API}/subscriptions/{id}`] ?? {}).sort()).toEqual(['delete', 'get']);
      expect(Object.keys(paths[`${API}/subscriptions/{id}/resume`] ?? {})).toEqual(['put']);
      expect(Object.keys(components.schemas)).toEqual(
        expect.arrayContaining([
          'SubscriptionRequest',
          'SubscriptionResponse',
          'CreatedSubscriptionResponse',
          'SubscriptionListResponse',
        ]),
      );
    });
  });
});
