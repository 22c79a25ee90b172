import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { expectEventually } from '@notifications/testing';
import { loadOrdersConfig } from '../src/config/orders.config';
import { OrderWithStatusResponse } from '@notifications/contracts';
import { ORDER_STATUS_DESCRIPTIONS } from '../src/domain/status-descriptions';
import { expectShape } from './support/assertions';
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

/** A tenant's condition endpoint on 127.0.0.1, answering per path, counting every request. */
class ConditionServer {
  readonly hits = new Map<string, number>();
  private readonly server: Server;

  constructor(private readonly port = 0) {
    this.server = createServer((request, response) => this.answer(request, response));
  }

  base = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    this.hits.set(path, this.hitsOf(path) + 1);
    const port = (this.server.address() as AddressInfo).port;
    switch (path) {
      case '/met':
        return void response.end('{"sendCondition":true}');
      // 127.0.0.2 is loopback too, but only 127.0.0.1 is on this suite's allow-list.
      case '/redirect-to-refused':
        return void response.writeHead(302, { location: `http://127.0.0.2:${port}/met` }).end();
      case '/redirect-to-metadata':
        return void response.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      case '/huge':
        return void response.end(JSON.stringify({ sendCondition: true, padding: 'x'.repeat(10_000) }));
      case '/silent':
        return; // never answers
      case '/not-a-boolean':
        return void response.end('{"sendCondition":"yes"}');
      default:
        response.statusCode = 500;
        return void response.end('{"error":"boom"}');
    }
  }
}

describe('outbound-request guard: send conditions end in a final status', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;
  let db: OrdersDb;
  let conditions: ConditionServer;

  beforeAll(async () => {
    // Production-like: only the one address the suite's receiver listens on is allowed.
    resources = await createTestResources('outbound', {
      OUTBOUND_ALLOW_LIST: '127.0.0.1',
      ORDERS_RETRY_MAX_ATTEMPTS: '3',
      SEND_CONDITION_TIMEOUT: '500ms',
    });
    db = new OrdersDb(resources.db.dataSource);
    conditions = new ConditionServer();
    await conditions.start();
    server = await startOrdersApp(resources);
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
  });

  afterAll(async () => {
    await server?.close();
    await conditions?.stop();
    await resources?.cleanup();
  });

  async function placeOrder(conditionEndpoint: string): Promise<string> {
    const response = await api.post<{ orderId: string }>(
      `${API}/orders/email`,
      emailOrder({ conditionEndpoint }),
    );
    expect(response.status).toBe(202);
    return response.body.orderId;
  }

  async function orderCount(): Promise<number> {
    const rows: { count: number }[] = await resources.db.dataSource.query(
      'SELECT count(*)::int AS count FROM orders',
    );
    return rows[0]?.count ?? 0;
  }

  async function statusOf(orderId: string): Promise<OrderWithStatusResponse['processingStatus']> {
    const response = await api.get(`${API}/orders/${orderId}/status`);
    expect(response.status).toBe(200);
    return expectShape(OrderWithStatusResponse, response.body).processingStatus;
  }

  it('answers 400 naming the field for a URL on a refused address, before anything is stored', async () => {
    const ordersBefore = await orderCount();
    for (const conditionEndpoint of [
      'http://127.0.0.2:5099/admin/rules',
      'http://[::1]:5099/admin/rules',
      'http://[::ffff:127.0.0.2]/admin/rules',
      'http://169.254.169.254/latest/meta-data/',
      'http://user:secret@127.0.0.1/condition',
    ]) {
      const response = await api.post<{ errors: Record<string, string[]> }>(
        `${API}/orders/email`,
        emailOrder({ conditionEndpoint }),
      );
      expect(response.status).toBe(400);
      expect(Object.keys(response.body.errors)).toEqual(['conditionEndpoint']);
    }
    expect(await orderCount()).toBe(ordersBefore);
  });

  it('stops at once when a redirect leads to a refused address: SendConditionNotMet with the reason', async () => {
    const toLoopback = await placeOrder(`${conditions.base}/redirect-to-refused`);
    const toMetadata = await placeOrder(`${conditions.base}/redirect-to-metadata`);
    await expectEventually(async () => {
      expect(await db.status(toLoopback)).toBe('SendConditionNotMet');
      expect(await db.status(toMetadata)).toBe('SendConditionNotMet');
    });
    // Refused is permanent: one request each, no retries, and the redirect target was never reached.
    expect(conditions.hitsOf('/redirect-to-refused')).toBe(1);
    expect(conditions.hitsOf('/redirect-to-metadata')).toBe(1);
    expect(conditions.hitsOf('/met')).toBe(0);
    const status = await statusOf(toLoopback);
    expect(status.description).toMatch(
      new RegExp(
        `^${escape(ORDER_STATUS_DESCRIPTIONS.SendConditionNotMet)} The send condition could not be evaluated: .*loopback address, which is refused`,
      ),
    );
    expect((await statusOf(toMetadata)).description).toMatch(/link-local address/);
    expect(await db.notifications(toLoopback)).toEqual([]);
  });

  it.each([
    ['/huge', /larger than 4096 bytes \(attempt 3\/3\)/],
    ['/silent', /no complete answer within 500 ms \(attempt 3\/3\)/],
    ['/not-a-boolean', /no boolean sendCondition \(attempt 3\/3\)/],
    ['/fails', /answered 500 \(attempt 3\/3\)/],
  ])(
    'ends an order whose condition at %s cannot be evaluated after the bounded attempts',
    async (path, reason) => {
      const orderId = await placeOrder(`${conditions.base}${path}`);
      const order = await expectEventually(
        async () => {
          const row = await db.order(orderId);
          expect(row.processing_status).toBe('SendConditionNotMet');
          return row;
        },
        { timeoutMs: 45_000 },
      );
      expect(order.last_error).toMatch(reason);
      // Claimed once, asked exactly ORDERS_RETRY_MAX_ATTEMPTS times; never back to Registered for another round.
      expect(order.processing_attempts).toBe(1);
      expect(conditions.hitsOf(path)).toBe(3);
      expect(await db.notifications(orderId)).toEqual([]);
    },
  );

  it('still sends an order whose allowed condition endpoint answers true', async () => {
    const orderId = await placeOrder(`${conditions.base}/met`);
    await expectEventually(async () => expect(await db.status(orderId)).toBe('Processed'));
    expect(await db.notifications(orderId)).toHaveLength(1);
  });
});

describe('JWKS outage', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let jwks: Server;

  beforeAll(async () => {
    jwks = createServer((_, response) => void response.writeHead(503).end('maintenance'));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    resources = await createTestResources('jwks', { ORDERS_SCHEDULER_ENABLED: 'false' });
    // The suite's PEM keys replaced by the JWKS URL (the two are exclusive), for service owners and operators.
    const env = Object.fromEntries(
      Object.entries(resources.env).filter(
        ([name]) => name !== 'AUTH_JWT_PUBLIC_KEY' && name !== 'OPERATOR_AUTH_JWT_PUBLIC_KEY',
      ),
    );
    server = await startOrdersApp(resources, {
      config: loadOrdersConfig({ ...env, AUTH_JWKS_URL: url, OPERATOR_AUTH_JWKS_URL: url }),
    });
  });

  afterAll(async () => {
    await server?.close();
    jwks?.closeAllConnections();
    await new Promise((resolve) => jwks?.close(resolve));
    await resources?.cleanup();
  });

  it('answers 503 problem details (not 401) while the signing keys cannot be fetched', async () => {
    const api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    const response = await api.post<{ status: number; detail: string }>(`${API}/orders/email`, emailOrder());
    expect(response.status).toBe(503);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(response.body.detail).toBe('The signing keys could not be fetched (answered 503).');
    // No token at all is still the caller's problem.
    expect((await api.as(undefined).get(`${API}/orders?sendersReference=x`)).status).toBe(401);
  });

  it('answers 503 on the management listener too while the operator signing keys cannot be fetched', async () => {
    const operator = new ApiClient(server.managementUrl, resources.auth.operatorToken());
    const response = await operator.get<{ message?: string; detail?: string }>(`${API}/internal/rate-limit`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(JSON.stringify(response.body)).toContain('The signing keys could not be fetched (answered 503).');
    expect((await operator.as(undefined).get(`${API}/internal/rate-limit`)).status).toBe(401);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
