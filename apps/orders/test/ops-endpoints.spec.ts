import { expectEventually } from '@notifications/testing';
import { ACS_EMAIL_RESOURCE } from '@notifications/contracts';
import { OpsController } from '../src/ops/ops.controller';
import {
  API,
  ApiClient,
  createTestResources,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';
import { TestAuth } from './support/test-auth';

interface OutboxRow {
  id: string;
  published_at: Date | null;
}

describe(OpsController.name, () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  /** The management listener, as an operator. */
  let api: ApiClient;

  beforeAll(async () => {
    resources = await createTestResources('opsapi');
    server = await startOrdersApp(resources);
    api = new ApiClient(server.managementUrl, resources.auth.operatorToken());
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  const query = <T>(sql: string, parameters: unknown[] = []): Promise<T[]> =>
    resources.db.dataSource.query(sql, parameters);

  describe('management listener', () => {
    const MANAGEMENT_ROUTES = [
      ['GET', `${API}/internal/rate-limit`],
      ['DELETE', `${API}/internal/rate-limit`],
      ['GET', `${API}/internal/outbox`],
      ['POST', `${API}/internal/outbox/redrive`],
      ['GET', `${API}/internal/status`],
      ['POST', `${API}/trigger/pastdueorders`],
      ['POST', `${API}/trigger/sendemail`],
      ['GET', '/metrics'],
      ['GET', '/status'],
    ] as const;

    it('is bound to 127.0.0.1 on a port of its own', () => {
      expect(new URL(server.managementUrl).hostname).toBe('127.0.0.1');
      expect(new URL(server.managementUrl).port).not.toBe(new URL(server.baseUrl).port);
    });

    it('is the only listener that serves the operator surface: the public one answers 404', async () => {
      const publicApi = new ApiClient(server.baseUrl, resources.auth.operatorToken());
      for (const [method, path] of MANAGEMENT_ROUTES) {
        const response = await publicApi.request(method, path);
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
      }
      // The public API itself and the probes are still there.
      expect((await publicApi.get('/health/live')).status).toBe(200);
      expect(
        (await publicApi.as(resources.auth.token('ttd')).get(`${API}/orders?sendersReference=x`)).status,
      ).toBe(200);
    });

    it('requires an operator token: 401 without or with a bad one, 403 without the operator scope', async () => {
      const anonymous = new ApiClient(server.managementUrl);
      for (const [method, path] of MANAGEMENT_ROUTES.filter(([, path]) => path.startsWith(API))) {
        const response = await anonymous.request(method, path);
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 });
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
      }
      const path = `${API}/internal/rate-limit`;
      expect((await anonymous.as('not.a.token').get(path)).status).toBe(401);
      // A token of another key, with the operator scope.
      const foreign = new TestAuth().operatorToken();
      expect((await anonymous.as(foreign).get(path)).status).toBe(401);
      // A service owner's token of the trusted key: authentic, but not an operator.
      const serviceOwner = await anonymous.as(resources.auth.token('ttd')).get(path);
      expect(serviceOwner.status).toBe(403);
      expect(serviceOwner.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      expect((await api.get(path)).status).toBe(200);
    });

    it('serves /metrics and /status to monitoring without a token', async () => {
      const anonymous = new ApiClient(server.managementUrl);
      const metrics = await anonymous.get<string>('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/notifications_/);
      expect((await anonymous.get('/status')).status).toBe(200);
    });

    it('runs the compatibility triggers and reports the replica status for operators', async () => {
      expect((await api.post(`${API}/trigger/pastdueorders`)).status).toBe(200);
      expect((await api.post(`${API}/trigger/sendemail`)).status).toBe(200);
      const status = await api.get<Record<string, unknown>>(`${API}/internal/status`);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({
        consumers: [
          expect.objectContaining({ state: 'running', lost: 0 }),
          expect.objectContaining({ state: 'running', lost: 0 }),
        ],
        outbox: { unpublished: expect.any(Number) },
        emailRateLimit: { paused: false },
      });
    });
  });

  describe('rate limit', () => {
    it('shows no pause when there never was one', async () => {
      // Whatever ran before in this suite: no stored pause at all.
      await query('DELETE FROM rate_limit_pauses WHERE resource = $1', [ACS_EMAIL_RESOURCE]);
      const response = await api.get(`${API}/internal/rate-limit`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        resource: ACS_EMAIL_RESOURCE,
        paused: false,
        pausedUntil: null,
        source: null,
        updatedAt: null,
      });
    });

    it('shows a pause in force and ends it early, once', async () => {
      const until = new Date(Date.now() + 10 * 60_000);
      await query(
        `INSERT INTO rate_limit_pauses (resource, paused_until, source) VALUES ($1, $2, 'test-acs')
         ON CONFLICT (resource) DO UPDATE SET paused_until = EXCLUDED.paused_until, source = EXCLUDED.source`,
        [ACS_EMAIL_RESOURCE, until],
      );
      expect((await api.get(`${API}/internal/rate-limit`)).body).toMatchObject({
        paused: true,
        pausedUntil: until.toISOString(),
        source: 'test-acs',
      });

      const cleared = await api.request('DELETE', `${API}/internal/rate-limit`);
      expect(cleared.status).toBe(200);
      expect(cleared.body).toEqual({
        resource: ACS_EMAIL_RESOURCE,
        cleared: true,
        pausedUntil: until.toISOString(),
      });
      const [row] = await query<{ paused_until: Date; source: string }>(
        'SELECT paused_until, source FROM rate_limit_pauses WHERE resource = $1',
        [ACS_EMAIL_RESOURCE],
      );
      expect(row!.paused_until.getTime()).toBeLessThanOrEqual(Date.now());
      expect(row!.source).toBe('ops');
      expect((await api.get(`${API}/internal/rate-limit`)).body).toMatchObject({
        paused: false,
        source: 'ops',
      });

      const again = await api.request('DELETE', `${API}/internal/rate-limit`);
      expect(again.body).toEqual({ resource: ACS_EMAIL_RESOURCE, cleared: false, pausedUntil: null });
    });
  });

  describe('outbox', () => {
    it('shows the backlog and re-drives only rows older than asked, which the relay then publishes', async () => {
      const topic = resources.topics.emailQueue.name;
      // A stuck row (backing off for another hour after failed publishes), and a fresh one held the same way.
      const [stuck] = await query<{ id: string }>(
        `INSERT INTO outbox (topic, message_key, payload, created_at, available_at, attempts)
         VALUES ($1, 'k1', '{"stuck":true}', now() - interval '10 minutes', now() + interval '1 hour', 1)
         RETURNING id`,
        [topic],
      );
      const [fresh] = await query<{ id: string }>(
        `INSERT INTO outbox (topic, message_key, payload, available_at, attempts, last_error)
         VALUES ($1, 'k2', '{"fresh":true}', now() + interval '1 hour', 1, 'broker down') RETURNING id`,
        [topic],
      );

      const backlog = await api.get<Record<string, unknown>>(`${API}/internal/outbox`);
      expect(backlog.status).toBe(200);
      expect(backlog.body).toMatchObject({
        unpublished: 2,
        topics: [{ topic, unpublished: 2, available: 0, waiting: 2, failing: 1 }],
      });
      expect(backlog.body['oldestAgeMs']).toBeGreaterThanOrEqual(10 * 60_000 - 5_000);

      const redriven = await api.post(`${API}/internal/outbox/redrive`, { olderThan: '5m' });
      expect(redriven.status).toBe(200);
      expect(redriven.body).toEqual({ redriven: 1, olderThanMs: 300_000 });

      await expectEventually(async () => {
        const rows = await query<OutboxRow>('SELECT id, published_at FROM outbox ORDER BY id');
        expect(rows.find((row) => row.id === stuck!.id)?.published_at).not.toBeNull();
        expect(rows.find((row) => row.id === fresh!.id)?.published_at).toBeNull();
      });
      expect((await api.get(`${API}/internal/outbox`)).body).toMatchObject({ unpublished: 1 });

      // Without a body: the default (5 minutes) leaves the fresh row alone.
      expect((await api.post(`${API}/internal/outbox/redrive`)).body).toEqual({
        redriven: 0,
        olderThanMs: 300_000,
      });
      expect((await api.post(`${API}/internal/outbox/redrive`, { olderThan: 0 })).body).toEqual({
        redriven: 1,
        olderThanMs: 0,
      });
    });

    it('rejects a re-drive with a malformed age', async () => {
      for (const body of [{ olderThan: 'soon' }, { olderThan: -1 }, { other: 1 }]) {
        const response = await api.post<{ status: number; detail: string }>(
          `${API}/internal/outbox/redrive`,
          body,
        );
        expect(response.status).toBe(400);
        expect(response.body.detail).toMatch(/olderThan/);
      }
    });
  });
});
