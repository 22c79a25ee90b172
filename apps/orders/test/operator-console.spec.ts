import { expectEventually } from '@notifications/testing';
import { CONSOLE_CSP, ConsoleController } from '../src/ops/console.controller';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

interface OrderPage {
  orders: { id: string; creator: string; sendersReference?: string; processingStatus: string }[];
  next?: string;
}

interface NotificationsPage {
  generated: number;
  page: number;
  hasNext: boolean;
  notifications: { id: string; sendStatus: { status: string } }[];
}

const FUTURE = '2099-01-01T08:00:00Z';

describe(`operator console (${ConsoleController.name} and its order routes)`, () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  /** The management listener, as an operator. */
  let operator: ApiClient;
  let ttd: ApiClient;
  let nav: ApiClient;

  beforeAll(async () => {
    resources = await createTestResources('console', {
      // Peers that do not run here: the pipeline view must say so rather than fail.
      EMAIL_SENDER_MANAGEMENT_URL: 'http://127.0.0.1:9',
      STATUS_POLLER_MANAGEMENT_URL: 'http://127.0.0.1:9',
      CONSOLE_PEER_TIMEOUT: '1s',
    });
    server = await startOrdersApp(resources);
    operator = new ApiClient(server.managementUrl, resources.auth.operatorToken());
    ttd = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    nav = new ApiClient(server.baseUrl, resources.auth.token('nav'));
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  async function createOrder(client: ApiClient, overrides: Record<string, unknown>): Promise<string> {
    const created = await client.post<{ orderId: string }>(`${API}/orders/email`, emailOrder(overrides));
    expect(created.status).toBe(202);
    return created.body.orderId;
  }

  it('serves the page without a token, with a strict Content-Security-Policy, outside the API prefix', async () => {
    const anonymous = new ApiClient(server.managementUrl);
    const page = await anonymous.get<string>('/console');
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    // No inline script or style in the shell: the policy would block them.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/<style|style="/);
    const styles = await anonymous.get<string>('/console/console.css');
    expect(styles.contentType).toMatch(/^text\/css/);
    // Only on the management listener.
    expect((await new ApiClient(server.baseUrl).get('/console')).status).toBe(404);
  });

  it('keeps the data behind the operator token', async () => {
    const anonymous = new ApiClient(server.managementUrl);
    for (const path of ['/internal/orders', '/internal/dead-letters', '/internal/pipeline']) {
      expect({ path, status: (await anonymous.get(`${API}${path}`)).status }).toEqual({ path, status: 401 });
    }
    const serviceOwner = operator.as(resources.auth.token('ttd'));
    expect((await serviceOwner.get(`${API}/internal/orders`)).status).toBe(403);
  });

  it("searches every creator's orders by creator and senders reference, newest first, page by page", async () => {
    const reference = `console-search-${Date.now()}`;
    const ttdOrders = [
      await createOrder(ttd, { sendersReference: reference, requestedSendTime: FUTURE }),
      await createOrder(ttd, { sendersReference: reference, requestedSendTime: FUTURE }),
    ];
    const navOrder = await createOrder(nav, { sendersReference: reference, requestedSendTime: FUTURE });

    const byReference = await operator.get<OrderPage>(
      `${API}/internal/orders?sendersReference=${reference}&pageSize=10`,
    );
    expect(byReference.status).toBe(200);
    // Newest first: the reverse of the creation order.
    expect(byReference.body.orders.map((order) => order.id)).toEqual([navOrder, ttdOrders[1], ttdOrders[0]]);
    expect(byReference.body.next).toBeUndefined();

    const both = await operator.get<OrderPage>(
      `${API}/internal/orders?creator=nav&sendersReference=${reference}`,
    );
    expect(both.body.orders.map((order) => [order.id, order.creator])).toEqual([[navOrder, 'nav']]);

    // One order a page: the cursors walk through all three exactly once.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await operator.get<OrderPage>(
        `${API}/internal/orders?sendersReference=${reference}&pageSize=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.orders).toHaveLength(1);
      seen.push(...page.body.orders.map((order) => order.id));
      cursor = page.body.next;
    } while (cursor !== undefined);
    expect(seen).toEqual(byReference.body.orders.map((order) => order.id));

    const bad = await operator.get(`${API}/internal/orders?cursor=nonsense`);
    expect(bad.status).toBe(400);
  });

  it("shows and cancels any creator's order under the public API's rule (Registered only)", async () => {
    const id = await createOrder(nav, { requestedSendTime: FUTURE, sendersReference: 'console-cancel' });
    const shown = await operator.get<{ creator: string; processingStatus: string; subject: string }>(
      `${API}/internal/orders/${id}`,
    );
    expect(shown.body).toMatchObject({
      creator: 'nav',
      processingStatus: 'Registered',
      subject: 'Your tax return',
    });

    const cancelled = await operator.put<{ processingStatus: string }>(`${API}/internal/orders/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.processingStatus).toBe('Cancelled');
    // The creator sees it cancelled too.
    const status = await nav.get<{ processingStatus: { status: string } }>(`${API}/orders/${id}/status`);
    expect(status.body.processingStatus.status).toBe('Cancelled');

    expect((await operator.put(`${API}/internal/orders/${id}/cancel`)).status).toBe(409);
    expect((await operator.get(`${API}/internal/orders/00000000-0000-4000-8000-000000000000`)).status).toBe(
      404,
    );
    expect((await operator.get(`${API}/internal/orders/not-a-uuid`)).status).toBe(404);
  });

  it("pages an order's notifications with their statuses", async () => {
    const recipients = Array.from({ length: 5 }, (_, index) => ({
      emailAddress: `page-${index}@example.com`,
    }));
    const id = await createOrder(ttd, { recipients, sendersReference: 'console-pages' });
    // Generated once orders.pastdue has been consumed.
    await expectEventually(async () => {
      const page = await operator.get<NotificationsPage>(`${API}/internal/orders/${id}/notifications`);
      expect(page.body.generated).toBe(5);
    });
    const ids: string[] = [];
    for (const pageNumber of [1, 2, 3]) {
      const page = await operator.get<NotificationsPage>(
        `${API}/internal/orders/${id}/notifications?page=${pageNumber}&pageSize=2`,
      );
      expect(page.status).toBe(200);
      expect(page.body.page).toBe(pageNumber);
      expect(page.body.hasNext).toBe(pageNumber < 3);
      for (const notification of page.body.notifications) expect(notification.sendStatus.status).toBeTruthy();
      ids.push(...page.body.notifications.map((notification) => notification.id));
    }
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect((await operator.get(`${API}/internal/orders/${id}/notifications?pageSize=1000`)).status).toBe(400);
  });

  it('touches dead-letter topics of this deployment only, and refuses a half-given message', async () => {
    const own = resources.topics.emailStatusUpdated.deadLetterTopic;
    const listed = await operator.get<{ topic: string; exists: boolean }[]>(`${API}/internal/dead-letters`);
    expect(listed.status).toBe(200);
    expect(listed.body.map((topic) => topic.topic)).toContain(own);

    const foreign = await operator.get(`${API}/internal/dead-letters/${resources.topics.emailQueue.name}`);
    expect(foreign.status).toBe(404);
    const halfGiven = await operator.post(`${API}/internal/dead-letters/${own}/replay`, { partition: 0 });
    expect(halfGiven.status).toBe(400);
  });

  it('shows the pipeline with unreachable peers as such, and its own status, lag and outbox', async () => {
    const view = await operator.get<{
      apps: { app: string; status: { ok: boolean; error?: string } }[];
      lag: { ok: boolean; error?: string };
      rateLimit: { paused: boolean };
      outbox: { unpublished: number };
    }>(`${API}/internal/pipeline`);
    expect(view.status).toBe(200);
    expect(view.body.apps.map((app) => [app.app, app.status.ok])).toEqual([
      ['orders', true],
      ['email-sender', false],
      ['status-poller', false],
    ]);
    // The whole probe, so that a failure shows its error.
    expect(view.body.lag).toMatchObject({ ok: true });
    expect(view.body.rateLimit.paused).toBe(false);
    expect(typeof view.body.outbox.unpublished).toBe('number');
  });
});
