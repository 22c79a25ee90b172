import { EmailNotificationRepository } from '../src/store/email-notification.repository';
import { ORDER_LIMITS } from '../src/api/email-order.request';
import {
  EmailNotificationSummaryResponse,
  NotificationOrderResponse,
  OrderIdResponse,
  OrderListResponse,
  OrderWithStatusResponse,
  ProblemDetailsResponse,
} from '@notifications/contracts';
import { expectShape } from './support/assertions';
import { TestAuth } from './support/test-auth';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type HttpResult,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: Record<string, string[]>;
};

function expectProblem(response: HttpResult, status: number): Problem {
  expect(response.status).toBe(status);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  const body = expectShape(ProblemDetailsResponse, response.body);
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\/tools\.ietf\.org\/html\/rfc9110#section-15\.\d+\.\d+$/);
  expect(body.title).not.toBe('');
  return body as Problem;
}

describe('orders REST API', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let ttd: ApiClient;
  let nav: ApiClient;
  let anonymous: ApiClient;
  /** The management listener, as an operator (the compatibility triggers). */
  let operator: ApiClient;

  beforeAll(async () => {
    // No scheduler: orders stay where the test puts them.
    resources = await createTestResources('api', {
      ORDERS_SCHEDULER_ENABLED: 'false',
      ORDERS_BODY_LIMIT_BYTES: '300000',
    });
    server = await startOrdersApp(resources);
    anonymous = new ApiClient(server.baseUrl);
    operator = new ApiClient(server.managementUrl, resources.auth.operatorToken());
    ttd = anonymous.as(resources.auth.token('ttd'));
    nav = anonymous.as(resources.auth.token('nav'));
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  async function createOrder(client: ApiClient, overrides: Record<string, unknown> = {}): Promise<string> {
    const response = await client.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(overrides));
    expect(response.status).toBe(202);
    return response.body.orderId;
  }

  describe('POST /orders/email', () => {
    it('registers the order: 202, Location and {orderId}, and the order can be read back', async () => {
      const response = await ttd.post(
        `${API}/orders/email`,
        emailOrder({
          sendersReference: 'ref-create',
          requestedSendTime: '2099-01-01T10:00:00+01:00',
          contentType: 'html',
          resourceId: 'urn:altinn:resource:tax-return',
          ignoreReservation: true,
        }),
      );
      expect(response.status).toBe(202);
      const { orderId } = expectShape(OrderIdResponse, response.body);
      expect(response.body).toEqual({ orderId });
      expect(response.headers.get('location')).toBe(`${server.baseUrl}${API}/orders/${orderId}`);

      const stored = await ttd.get(`${API}/orders/${orderId}`);
      expect(stored.status).toBe(200);
      expect(expectShape(NotificationOrderResponse, stored.body)).toEqual({
        id: orderId,
        creator: 'ttd',
        sendersReference: 'ref-create',
        requestedSendTime: '2099-01-01T09:00:00.000Z',
        created: expect.any(String),
        notificationChannel: 'Email',
        ignoreReservation: true,
        resourceId: 'urn:altinn:resource:tax-return',
        recipients: [{ emailAddress: 'ola.nordmann@example.com' }],
        emailTemplate: {
          fromAddress: 'noreply@altinn.cloud',
          subject: 'Your tax return',
          body: 'Hello $recipientName$, your tax return is ready.',
          contentType: 'Html',
        },
        links: {
          self: `${server.baseUrl}${API}/orders/${orderId}`,
          status: `${server.baseUrl}${API}/orders/${orderId}/status`,
        },
      });
    });

    it('defaults the send time to now and the content type to Plain', async () => {
      const before = Date.now();
      const orderId = await createOrder(ttd);
      const { body } = await ttd.get<{ requestedSendTime: string; emailTemplate: { contentType: string } }>(
        `${API}/orders/${orderId}`,
      );
      expect(Date.parse(body.requestedSendTime)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(body.requestedSendTime)).toBeLessThanOrEqual(Date.now());
      expect(body.emailTemplate.contentType).toBe('Plain');
    });

    it('looks up identity and organisation numbers and reports the look-up', async () => {
      const response = await ttd.post(
        `${API}/orders/email`,
        emailOrder({
          recipients: [
            { nationalIdentityNumber: '01017012345' },
            { nationalIdentityNumber: '02028012345' },
            { nationalIdentityNumber: '03039012345' },
            { organizationNumber: '910000001' },
            { organizationNumber: '910000002' },
          ],
        }),
      );
      expect(response.status).toBe(202);
      expect(expectShape(OrderIdResponse, response.body).recipientLookup).toEqual({
        status: 'PartialSuccess',
        isReserved: ['02028012345'],
        missingContact: ['03039012345', '910000002'],
      });
    });

    it('names every bad field in one problem details response', async () => {
      const response = await ttd.post(`${API}/orders/email`, {
        subject: '   ',
        body: 'x'.repeat(ORDER_LIMITS.bodyMaxLength + 1),
        contentType: 'Markdown',
        requestedSendTime: '2030-01-01T10:00:00',
        resourceId: 'tax-return',
        conditionEndpoint: 'ftp://example.com/condition',
        recipients: [
          {},
          { emailAddress: 'not an address' },
          { nationalIdentityNumber: '123' },
          { organizationNumber: '12345678X' },
          { emailAddress: 'a@example.com', organizationNumber: '910000001' },
        ],
      });
      const problem = expectProblem(response, 400);
      expect(problem.title).toBe('One or more validation errors occurred.');
      expect(problem.instance).toBe(`${API}/orders/email`);
      expect(Object.keys(problem.errors ?? {}).sort()).toEqual(
        [
          'subject',
          'body',
          'contentType',
          'requestedSendTime',
          'resourceId',
          'conditionEndpoint',
          'recipients[0]',
          'recipients[1].emailAddress',
          'recipients[2].nationalIdentityNumber',
          'recipients[3].organizationNumber',
          'recipients[4]',
        ].sort(),
      );
      expect(problem.errors?.['subject']).toEqual(['must not be empty']);
      expect(problem.detail).toMatch(/subject/);
    });

    it('requires at least one recipient, a body and a subject', async () => {
      const problem = expectProblem(await ttd.post(`${API}/orders/email`, { recipients: [] }), 400);
      expect(problem.errors).toEqual({
        subject: ['is required'],
        body: ['is required'],
        recipients: ['at least one recipient is required'],
      });
    });

    it('refuses control characters in one-line fields (subject, sendersReference) with 400', async () => {
      const problem = expectProblem(
        await ttd.post(
          `${API}/orders/email`,
          emailOrder({ subject: 'Tax\r\nBcc: all@example.com', sendersReference: 'ref\u0085' }),
        ),
        400,
      );
      expect(problem.errors).toEqual({
        subject: ['must not contain control characters (line breaks, tabs, C0/C1 controls)'],
        sendersReference: ['must not contain control characters (line breaks, tabs, C0/C1 controls)'],
      });
    });

    it('refuses a conditionEndpoint on a metadata, private or credentialed URL with 400', async () => {
      for (const conditionEndpoint of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[fd00:ec2::254]/latest/meta-data/',
        'http://10.0.0.5/rules',
        'https://user:pass@conditions.example.com/check',
      ]) {
        const problem = expectProblem(
          await ttd.post(`${API}/orders/email`, emailOrder({ conditionEndpoint })),
          400,
        );
        expect(Object.keys(problem.errors ?? {})).toEqual(['conditionEndpoint']);
      }
    });

    it('refuses a send time more than the grace period in the past', async () => {
      const problem = expectProblem(
        await ttd.post(`${API}/orders/email`, emailOrder({ requestedSendTime: '2020-01-01T00:00:00Z' })),
        400,
      );
      expect(problem.errors?.['requestedSendTime']?.[0]).toMatch(/in the past/);
    });

    it('reports wrong types as 400, never 500', async () => {
      const problem = expectProblem(
        await ttd.post(`${API}/orders/email`, {
          subject: 42,
          body: ['x'],
          recipients: 'everyone',
          ignoreReservation: 'yes',
        }),
        400,
      );
      expect(problem.errors).toMatchObject({
        subject: ['expected string, got number'],
        body: ['expected string, got array'],
        recipients: ['expected array, got string'],
        ignoreReservation: ['expected boolean, got string'],
      });
      const notAnObject = expectProblem(await ttd.post(`${API}/orders/email`, [1, 2]), 400);
      expect(notAnObject.errors).toEqual({ $: ['expected object, got array'] });
    });

    it('answers malformed JSON with 400 problem details', async () => {
      const response = await ttd.request('POST', `${API}/orders/email`, {
        body: '{"subject": "x", ',
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(response, 400);
    });

    it('answers a non-JSON content type with 415 and a missing body with 400', async () => {
      const text = await ttd.request('POST', `${API}/orders/email`, {
        body: 'subject=x',
        headers: { 'content-type': 'text/plain' },
      });
      expect(expectProblem(text, 415).detail).toMatch(/text\/plain/);
      const form = await ttd.request('POST', `${API}/orders/email`, {
        body: 'subject=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(form, 415);
      expectProblem(await ttd.request('POST', `${API}/orders/email`), 400);
    });

    it('answers a body above the size limit with 413', async () => {
      const response = await ttd.post(`${API}/orders/email`, emailOrder({ body: 'x'.repeat(400_000) }));
      expectProblem(response, 413);
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the original order for the same key and body', async () => {
      const headers = { 'idempotency-key': 'idem-same' };
      const first = await ttd.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(), headers);
      const again = await ttd.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(), headers);
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.body.orderId).toBe(first.body.orderId);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const list = await resources.db.dataSource.query(
        `SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'idem-same'`,
      );
      expect(list).toEqual([{ n: 1 }]);
    });

    it('creates one order when requests with the same key race', async () => {
      const headers = { 'idempotency-key': 'idem-race' };
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          ttd.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(), headers),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(6).fill(202));
      expect(new Set(responses.map((r) => r.body.orderId)).size).toBe(1);
    });

    it('answers 422 when the same key comes with a different body', async () => {
      const headers = { 'idempotency-key': 'idem-conflict' };
      expect((await ttd.post(`${API}/orders/email`, emailOrder(), headers)).status).toBe(202);
      const conflict = await ttd.post(
        `${API}/orders/email`,
        emailOrder({ subject: 'Another subject' }),
        headers,
      );
      expect(expectProblem(conflict, 422).detail).toMatch(/idem-conflict/);
    });

    it('scopes keys per organisation', async () => {
      const headers = { 'idempotency-key': 'idem-per-org' };
      const mine = await ttd.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(), headers);
      const theirs = await nav.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(), headers);
      expect(theirs.status).toBe(202);
      expect(theirs.body.orderId).not.toBe(mine.body.orderId);
    });
  });

  describe('authentication and authorisation', () => {
    it('answers 401 without a token, with WWW-Authenticate', async () => {
      const response = await anonymous.post(`${API}/orders/email`, emailOrder());
      expect(expectProblem(response, 401).detail).toBe('A bearer token is required.');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expectProblem(await anonymous.get(`${API}/orders?sendersReference=x`), 401);
    });

    it('answers 401 for a malformed, foreign-key or expired token', async () => {
      const garbage = await anonymous.as('not-a-jwt').get(`${API}/orders?sendersReference=x`);
      expectProblem(garbage, 401);
      expect(garbage.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

      const foreign = await anonymous.as(new TestAuth().token('ttd')).get(`${API}/orders?sendersReference=x`);
      expectProblem(foreign, 401);

      const expired = resources.auth.token('ttd', {
        lifetimeMs: 1_000,
        now: new Date(Date.now() - 3_600_000),
      });
      const late = await anonymous.as(expired).get(`${API}/orders?sendersReference=x`);
      expect(expectProblem(late, 401).detail).toBe('The token has expired.');

      const basic = await anonymous.request('GET', `${API}/orders?sendersReference=x`, {
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      });
      expectProblem(basic, 401);
    });

    it('answers 403 when the scope or the org claim is missing', async () => {
      const unscoped = anonymous.as(resources.auth.token('ttd', { scopes: ['altinn:serviceowner/other'] }));
      const response = await unscoped.post(`${API}/orders/email`, emailOrder());
      expect(expectProblem(response, 403).detail).toMatch(/altinn:serviceowner\/notifications\.create/);
      const noOrg = anonymous.as(resources.auth.token(''));
      expect(expectProblem(await noOrg.get(`${API}/orders?sendersReference=x`), 403).detail).toBe(
        'The token has no org claim.',
      );
    });

    it("answers 404 for another organisation's order on every route", async () => {
      const orderId = await createOrder(ttd);
      for (const path of [
        `/orders/${orderId}`,
        `/orders/${orderId}/status`,
        `/orders/${orderId}/notifications/email`,
      ]) {
        expectProblem(await nav.get(`${API}${path}`), 404);
      }
      expectProblem(await nav.put(`${API}/orders/${orderId}/cancel`), 404);
      expectProblem(await nav.put(`${API}/orders/${orderId}/halt`), 404);
      expect((await ttd.get(`${API}/orders/${orderId}`)).status).toBe(200);
    });
  });

  describe('reading orders', () => {
    it('GET /orders/{id}: 404 for unknown and malformed ids', async () => {
      expectProblem(await ttd.get(`${API}/orders/7b8a4f34-6f2d-4a61-9a3e-7a1c1f1f0a11`), 404);
      expectProblem(await ttd.get(`${API}/orders/not-a-uuid`), 404);
    });

    it('GET /orders/{id}/status: processing status and notification counts', async () => {
      const orderId = await createOrder(ttd, { sendersReference: 'ref-status' });
      const response = await ttd.get(`${API}/orders/${orderId}/status`);
      expect(response.status).toBe(200);
      expect(expectShape(OrderWithStatusResponse, response.body)).toMatchObject({
        id: orderId,
        creator: 'ttd',
        sendersReference: 'ref-status',
        notificationChannel: 'Email',
        processingStatus: {
          status: 'Registered',
          description: expect.stringContaining('registered'),
          lastUpdate: expect.any(String),
        },
        notificationsStatusSummary: {
          email: {
            links: { self: `${server.baseUrl}${API}/orders/${orderId}/notifications/email` },
            generated: 0,
            succeeded: 0,
          },
        },
      });
    });

    it('GET /orders/{id}/notifications/email: each notification with its recipient and send status', async () => {
      const orderId = await createOrder(ttd, { sendersReference: 'ref-notifications' });
      const empty = await ttd.get(`${API}/orders/${orderId}/notifications/email`);
      expect(expectShape(EmailNotificationSummaryResponse, empty.body)).toEqual({
        orderId,
        sendersReference: 'ref-notifications',
        generated: 0,
        succeeded: 0,
        notifications: [],
      });

      await resources.db.dataSource.transaction((manager) =>
        new EmailNotificationRepository().insertMany(
          { manager },
          orderId,
          [
            {
              recipientKey: 'ola.nordmann@example.com',
              toAddress: 'ola.nordmann@example.com',
              result: 'New',
            },
            {
              recipientKey: 'nin:02028012345',
              nationalIdentityNumber: '02028012345',
              isReserved: true,
              result: 'Failed_RecipientReserved',
            },
          ],
          new Date(Date.now() + 3_600_000),
        ),
      );
      await resources.db.dataSource.query(
        `UPDATE email_notifications SET result = 'Delivered' WHERE order_id = $1 AND to_address IS NOT NULL`,
        [orderId],
      );
      const response = await ttd.get(`${API}/orders/${orderId}/notifications/email`);
      const body = expectShape(EmailNotificationSummaryResponse, response.body);
      expect(body).toMatchObject({ orderId, generated: 2, succeeded: 1 });
      expect(
        body.notifications.map(({ succeeded, recipient, sendStatus }) => ({
          succeeded,
          recipient,
          status: sendStatus.status,
        })),
      ).toEqual(
        expect.arrayContaining([
          { succeeded: true, recipient: { emailAddress: 'ola.nordmann@example.com' }, status: 'Delivered' },
          {
            succeeded: false,
            recipient: { nationalIdentityNumber: '02028012345' },
            status: 'Failed_RecipientReserved',
          },
        ]),
      );
      const status = await ttd.get<{
        notificationsStatusSummary: { email: { generated: number; succeeded: number } };
      }>(`${API}/orders/${orderId}/status`);
      expect(status.body.notificationsStatusSummary.email).toMatchObject({ generated: 2, succeeded: 1 });
    });

    it("GET /orders?sendersReference=: the caller's matching orders only", async () => {
      const first = await createOrder(ttd, { sendersReference: 'ref-search' });
      const second = await createOrder(ttd, { sendersReference: 'ref-search' });
      await createOrder(nav, { sendersReference: 'ref-search' });
      await createOrder(ttd, { sendersReference: 'ref-other' });
      const response = await ttd.get(`${API}/orders?sendersReference=ref-search`);
      expect(response.status).toBe(200);
      const body = expectShape(OrderListResponse, response.body);
      expect(body.count).toBe(2);
      expect(body.orders.map((order) => order.id).sort()).toEqual([first, second].sort());
      expect(
        expectShape(OrderListResponse, (await ttd.get(`${API}/orders?sendersReference=none`)).body),
      ).toEqual({
        count: 0,
        orders: [],
      });
      expect(expectProblem(await ttd.get(`${API}/orders`), 400).errors).toEqual({
        sendersReference: ['is required'],
      });
    });
  });

  describe('PUT /orders/{id}/cancel', () => {
    it('cancels a Registered order, and answers 409 once it is no longer Registered', async () => {
      const orderId = await createOrder(ttd, { requestedSendTime: '2099-01-01T00:00:00Z' });
      const cancelled = await ttd.put(`${API}/orders/${orderId}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(expectShape(OrderWithStatusResponse, cancelled.body).processingStatus.status).toBe('Cancelled');
      const again = await ttd.put(`${API}/orders/${orderId}/cancel`);
      expect(expectProblem(again, 409).detail).toMatch(/Cancelled/);
    });

    it('answers 409 for an order that is being processed', async () => {
      const orderId = await createOrder(ttd);
      expect((await operator.post(`${API}/trigger/pastdueorders`)).status).toBe(200);
      const status = await ttd.get<{ processingStatus: { status: string } }>(
        `${API}/orders/${orderId}/status`,
      );
      expect(status.body.processingStatus.status).toBe('Processing');
      expect(expectProblem(await ttd.put(`${API}/orders/${orderId}/cancel`), 409).detail).toMatch(
        /Processing/,
      );
    });
  });

  describe('operations', () => {
    it('serves liveness and readiness outside the API prefix', async () => {
      expect((await anonymous.get('/health/live')).status).toBe(200);
      const ready = await anonymous.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
      // The public API needs only PostgreSQL: a Kafka outage must not take it out of service (outbox).
      expect(ready.body).not.toHaveProperty('details.kafka');
    });

    it('publishes an OpenAPI document of the public API and a browsable page at /docs', async () => {
      const page = await anonymous.get('/docs');
      expect(page.status).toBe(200);
      expect(page.contentType).toMatch(/text\/html/);
      const document = await anonymous.get<{
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      }>('/docs-json');
      expect(Object.keys(document.body.paths)).toEqual(
        expect.arrayContaining([
          `${API}/orders/email`,
          `${API}/orders/{id}`,
          `${API}/orders/{id}/status`,
          `${API}/orders/{id}/notifications/email`,
          `${API}/orders`,
          `${API}/orders/{id}/cancel`,
          `${API}/orders/{id}/progress`,
          `${API}/orders/{id}/halt`,
        ]),
      );
      // The management surface is not part of the public API's document: orders and subscriptions only.
      expect(
        Object.keys(document.body.paths).filter(
          (path) => !path.startsWith(`${API}/orders`) && !path.startsWith(`${API}/subscriptions`),
        ),
      ).toEqual([]);
      expect(Object.keys(document.body.components.schemas)).toEqual(
        expect.arrayContaining([
          'EmailOrderRequest',
          'OrderIdResponse',
          'OrderProgressResponse',
          'ProblemDetails',
        ]),
      );
    });

    it('answers unknown routes with 404 problem details', async () => {
      expectProblem(await ttd.get(`${API}/nothing-here`), 404);
    });

    it('reports consumer, scheduler, outbox and rate-limit state for operators', async () => {
      const status = await operator.get<Record<string, unknown>>(`${API}/internal/status`);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({
        consumers: [
          expect.objectContaining({ state: 'running', lost: 0 }),
          expect.objectContaining({ state: 'running', lost: 0 }),
        ],
        scheduler: { running: false },
        outbox: { unpublished: expect.any(Number) },
        emailRateLimit: { paused: false },
      });
    });

    it('keeps the compatibility trigger endpoints (management listener)', async () => {
      expect((await operator.post(`${API}/trigger/pastdueorders`)).status).toBe(200);
      expect((await operator.post(`${API}/trigger/sendemail`)).status).toBe(200);
    });
  });
});
