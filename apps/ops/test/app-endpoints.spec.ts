import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevKey, signDevToken } from '@notifications/config';
import { ACS_EMAIL_RESOURCE, topicCatalog } from '@notifications/contracts';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { expectEventually, OperatorTestAuth } from '@notifications/testing';
import { testKafkaConnection } from '@notifications/messaging/testing';
import { type Admin } from 'kafkajs';
import { deleteSuffixedTopics, opsEnv, testAdmin } from './support/kafka-env';
import { migrateOrders, startApp, type AppProcess } from './support/app-process';
import { runOps, runOpsJson, startBuiltOps } from './support/run-ops';

interface RateLimitResult {
  readonly apps: {
    readonly app: string;
    readonly ok: boolean;
    readonly paused?: boolean;
    readonly pausedUntil?: string | null;
    readonly cleared?: boolean;
    readonly error?: string;
  }[];
}

interface OrdersList {
  readonly orders: {
    readonly id: string;
    readonly creator: string;
    readonly sendersReference?: string;
    readonly processingStatus: string;
    readonly final: number;
    readonly total: number;
  }[];
  readonly more: boolean;
}

interface OrderDetails {
  readonly order: { readonly id: string; readonly halted?: unknown };
  readonly progress: { readonly orderStatus: string; readonly final: number; readonly total: number };
}

// The scope orders requires of service owners creating orders (apps/orders, NOTIFICATIONS_CREATE_SCOPE).
const CREATE_SCOPE = 'altinn:serviceowner/notifications.create';

/**
 * `rate-limit`, `outbox`, `orders` and `subscriptions` against the real apps (built, in child processes): orders on its own
 * database and email-sender, both on topics of their own (KAFKA_TOPIC_SUFFIX).
 */
describe('rate-limit, outbox, orders and subscriptions commands', () => {
  const suffix = `ops-${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let orders: AppProcess;
  let emailSender: AppProcess;
  let admin: Admin;
  let env: Record<string, string>;
  // The apps trust operator tokens of this development key; the CLI mints its token with it (no OPS_TOKEN).
  const devKeyDir = mkdtempSync(join(tmpdir(), 'ops-dev-key-'));
  const devKey = { OPERATOR_AUTH_DEV_KEY_FILE: join(devKeyDir, 'jwt-dev-key.json') };

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'ops_orders', template: false });
    const ordersEnv = {
      ...devKey,
      // Service owners' tokens of the same key: the tests create orders through the public API.
      AUTH_DEV_KEY_FILE: devKey.OPERATOR_AUTH_DEV_KEY_FILE,
      APP_ENV: 'test',
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '4',
      KAFKA_BROKERS: testKafkaConnection().brokers.join(','),
      KAFKA_TOPIC_SUFFIX: suffix,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_SESSION_TIMEOUT_MS: '10s',
      KAFKA_SHUTDOWN_TIMEOUT_MS: '2s',
      ORDERS_OUTBOX_RELAY_INTERVAL: '50ms',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    };
    await migrateOrders(ordersEnv);
    // One after the other, so that a failed start never leaves the other app running unseen by afterAll.
    orders = await startApp('orders', ordersEnv);
    emailSender = await startApp('email-sender', {
      ...devKey,
      APP_ENV: 'test',
      KAFKA_BROKERS: ordersEnv.KAFKA_BROKERS,
      KAFKA_TOPIC_SUFFIX: suffix,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_SESSION_TIMEOUT_MS: '10s',
      KAFKA_SHUTDOWN_TIMEOUT_MS: '2s',
      EMAIL_MAX_HOLD_MS: '2s',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    });
    admin = await testAdmin();
    env = opsEnv({
      KAFKA_TOPIC_SUFFIX: suffix,
      ...devKey,
      ORDERS_MANAGEMENT_URL: orders.managementUrl,
      EMAIL_SENDER_MANAGEMENT_URL: emailSender.managementUrl,
    });
  });

  afterAll(async () => {
    await Promise.all([orders?.stop(), emailSender?.stop()]);
    await db?.drop();
    rmSync(devKeyDir, { recursive: true, force: true });
    if (admin) {
      await deleteSuffixedTopics(admin, suffix);
      await admin.disconnect();
    }
  });

  const query = <T>(sql: string, parameters: unknown[] = []): Promise<T[]> =>
    db.dataSource.query(sql, parameters);

  it('shows the pause orders stored and ends it', async () => {
    const idle = await runOpsJson<RateLimitResult>(['rate-limit', 'show', '--app', 'orders'], env);
    expect(idle.apps).toEqual([
      expect.objectContaining({ app: 'orders', ok: true, paused: false, pausedUntil: null }),
    ]);

    const until = new Date(Date.now() + 15 * 60_000);
    await query(`INSERT INTO rate_limit_pauses (resource, paused_until, source) VALUES ($1, $2, 'acs')`, [
      ACS_EMAIL_RESOURCE,
      until,
    ]);
    // Both apps by default: orders has the stored pause; email-sender has none in process (it saw no 429).
    const both = await runOpsJson<RateLimitResult>(['rate-limit', 'show'], env);
    expect(both.apps).toEqual([
      expect.objectContaining({ app: 'orders', ok: true, paused: true, pausedUntil: until.toISOString() }),
      expect.objectContaining({ app: 'email-sender', ok: true, paused: false, pausedUntil: null }),
    ]);
    const table = await runOps(['rate-limit', 'show'], env);
    expect(table.stdout).toMatch(/^orders\s+paused\s+\S+Z\s+acs/m);
    expect(table.stdout).toMatch(/^email-sender\s+not paused/m);

    const cleared = await runOpsJson<RateLimitResult>(['rate-limit', 'clear'], env);
    expect(cleared.apps).toEqual([
      expect.objectContaining({ app: 'orders', ok: true, cleared: true, pausedUntil: until.toISOString() }),
      expect.objectContaining({ app: 'email-sender', ok: true, cleared: false, pausedUntil: null }),
    ]);
    const [row] = await query<{ paused_until: Date }>('SELECT paused_until FROM rate_limit_pauses');
    expect(row!.paused_until.getTime()).toBeLessThanOrEqual(Date.now());
    const after = await runOpsJson<RateLimitResult>(['rate-limit', 'show', '--app', 'orders'], env);
    expect(after.apps[0]).toMatchObject({ paused: false });

    // An app that cannot be reached is an error next to the other app's answer (exit code 1).
    const halfDown = await runOpsJson<RateLimitResult>(
      ['rate-limit', 'show'],
      {
        ...env,
        EMAIL_SENDER_MANAGEMENT_URL: 'http://127.0.0.1:1',
      },
      1,
    );
    expect(halfDown.apps).toEqual([
      expect.objectContaining({ app: 'orders', ok: true }),
      expect.objectContaining({
        app: 'email-sender',
        ok: false,
        error: expect.stringMatching(/not reachable/),
      }),
    ]);
  });

  it('refuses a token that is not an operator token of the trusted key, and the public listener', async () => {
    const foreign = await runOps(['outbox', 'show'], { ...env, OPS_TOKEN: new OperatorTestAuth().token() });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/orders answered GET \S+ with 401: .*OPS_TOKEN must be an operator token/);
    const publicListener = await runOps(['outbox', 'show'], {
      ...env,
      ORDERS_MANAGEMENT_URL: orders.baseUrl,
    });
    expect(publicListener.code).toBe(1);
    expect(publicListener.stderr).toMatch(/with 404: .*is this the management listener/);
  });

  it('shows the outbox backlog and re-drives stuck rows, which the relay then publishes', async () => {
    const topic = topicCatalog(suffix).emailQueue.name;
    await query(
      `INSERT INTO outbox (topic, message_key, payload, created_at, available_at, attempts)
       VALUES ($1, 'k', '{"stuck":true}', now() - interval '20 minutes', now() + interval '1 hour', 1)`,
      [topic],
    );
    const shown = await runOpsJson<{ unpublished: number; oldestAgeMs: number; topics: { topic: string }[] }>(
      ['outbox', 'show'],
      env,
    );
    expect(shown).toMatchObject({ unpublished: 1, topics: [{ topic, waiting: 1 }] });
    expect(shown.oldestAgeMs).toBeGreaterThanOrEqual(19 * 60_000);
    expect((await runOps(['outbox', 'show'], env)).stdout).toMatch(/Unpublished: 1; oldest 20 min old/);

    expect(await runOpsJson(['outbox', 'redrive', '--older-than', '30m'], env)).toEqual({
      redriven: 0,
      olderThanMs: 1_800_000,
    });
    expect(await runOpsJson(['outbox', 'redrive'], env)).toEqual({ redriven: 1, olderThanMs: 300_000 });
    await expectEventually(async () => {
      const rows = await query<{ published_at: Date | null }>('SELECT published_at FROM outbox');
      expect(rows.map((r) => r.published_at !== null)).toEqual([true]);
    });
    expect(await runOpsJson(['outbox', 'show'], env)).toMatchObject({ unpublished: 0, topics: [] });
  });

  /** An order of `ttd` through the public API, due in an hour: it stays Registered until halted or cancelled. */
  async function createOrder(sendersReference: string): Promise<string> {
    const token = signDevToken(loadOrCreateDevKey(devKey.OPERATOR_AUTH_DEV_KEY_FILE), {
      org: 'ttd',
      scopes: [CREATE_SCOPE],
      lifetimeMs: 60_000,
    });
    const response = await fetch(`${orders.baseUrl}/notifications/api/v1/orders/email`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sendersReference,
        requestedSendTime: new Date(Date.now() + 3_600_000).toISOString(),
        subject: 'Ops test',
        body: 'Hello',
        recipients: [{ emailAddress: 'a@example.com' }, { emailAddress: 'b@example.com' }],
      }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { orderId: string }).orderId;
  }

  it('lists orders by senders reference and shows their progress', async () => {
    const reference = `list-${suffix}`;
    const older = await createOrder(reference);
    const newer = await createOrder(reference);
    await createOrder(`other-${suffix}`);

    const listed = await runOpsJson<OrdersList>(['orders', 'list', '--senders-reference', reference], env);
    expect(listed).toEqual({
      orders: [newer, older].map((id) =>
        expect.objectContaining({
          id,
          creator: 'ttd',
          sendersReference: reference,
          processingStatus: 'Registered',
          final: 0,
          total: 0,
        }),
      ),
      more: false,
    });
    // --limit 1 reads one page of one and says that more match.
    const first = await runOps(['orders', 'list', '--senders-reference', reference, '--limit', '1'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(
        `^ID\\s+CREATOR\\s+SENDERS REFERENCE\\s+STATUS\\s+CREATED\\s+FINAL/TOTAL\\n-.*\\n${newer}\\s+ttd\\s+${reference}\\s+Registered\\s+\\S+Z\\s+0/0\\n$`,
      ),
    );
    expect(first.stderr).toMatch(/More orders match/);
    expect(
      (
        await runOpsJson<OrdersList>(
          ['orders', 'list', '--creator', 'nav', '--senders-reference', reference],
          env,
        )
      ).orders,
    ).toEqual([]);

    const shown = await runOpsJson<OrderDetails>(['orders', 'show', older], env);
    expect(shown).toMatchObject({
      order: { id: older, creator: 'ttd', sendersReference: reference, subject: 'Ops test' },
      progress: {
        orderId: older,
        orderStatus: 'Registered',
        final: 0,
        total: 0,
        counts: {},
        etaSeconds: null,
      },
    });
    const table = await runOps(['orders', 'show', older], env);
    expect(table.stdout).toMatch(new RegExp(`^Order ${older}: Registered$`, 'm'));
    expect(table.stdout).toMatch(/^Final 0\/0; 0\/s; ETA - \(at \S+Z\)$/m);

    // No such order: the app's own 404, one line, without the hint about the listener.
    const missing = await runOps(['orders', 'show', '00000000-0000-4000-8000-000000000000'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: orders answered GET \S+ with 404: Order 00000000-0000-4000-8000-000000000000 was not found\.\n$/,
    );
  });

  it('lists subscriptions without secrets, and a replay resumes a failed one and delivers its events', async () => {
    const bodies: string[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    try {
      const id = randomUUID();
      await query(
        `INSERT INTO subscriptions (id, creator, events, destination, signing_secret, state, fails_counter,
                                    last_failure, last_failure_reason)
         VALUES ($1, 'ttd', ARRAY['notification.status'], $2::jsonb, 'whsec_ops-secret', 'failed', 20, now(),
                 'answered HTTP 503')`,
        [id, JSON.stringify({ http: { url: `http://127.0.0.1:${port}/hook?token=query-secret` } })],
      );
      await query(
        `INSERT INTO subscription_events (subscription_id, type, order_id, notification_id, recipient_email, status,
                                          status_time)
         SELECT $1, 'notification.status', gen_random_uuid(), gen_random_uuid(), 'a@example.com', 'Delivered', now()
           FROM generate_series(1, 2)`,
        [id],
      );

      const listed = await runOpsJson<{ subscriptions: Record<string, unknown>[] }>(
        ['subscriptions', 'list'],
        env,
      );
      expect(listed.subscriptions).toEqual([
        expect.objectContaining({
          id,
          creator: 'ttd',
          status: 'failed',
          destination: `http:127.0.0.1:${port}`,
          pending: 2,
          failsCounter: 20,
          lastFailureReason: 'answered HTTP 503',
        }),
      ]);
      const table = await runOps(['subscriptions', 'list'], env);
      expect(table.stdout).toMatch(
        new RegExp(`^${id}\\s+ttd\\s+failed\\s+http:127\\.0\\.0\\.1:${port}\\s+2\\s`, 'm'),
      );
      for (const shown of [JSON.stringify(listed), table.stdout]) {
        expect(shown).not.toMatch(/whsec_ops-secret|query-secret|@example\.com/);
      }

      const replayed = await runOpsJson<{ subscription: Record<string, unknown> }>(
        ['subscriptions', 'replay', id.toUpperCase()],
        env,
      );
      expect(replayed.subscription).toMatchObject({ id, status: 'active', failsCounter: 0 });
      await expectEventually(() => expect(bodies).toHaveLength(2));
      await expectEventually(async () =>
        expect(
          (await runOpsJson<{ subscriptions: unknown[] }>(['subscriptions', 'list'], env)).subscriptions,
        ).toEqual([expect.objectContaining({ id, status: 'active', pending: 0, timesSent: 2 })]),
      );

      const unknown = await runOps(['subscriptions', 'replay', randomUUID()], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/404/);
      expect((await runOps(['subscriptions', 'replay', 'not-an-id'], env)).code).toBe(2);
    } finally {
      await query('DELETE FROM subscriptions');
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('halts an order only with --yes, and refuses to halt a finished one (409)', async () => {
    const id = await createOrder(`halt-${suffix}`);
    const dryRun = await runOps(['orders', 'halt', id], env);
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(new RegExp(`^Would halt:\\nOrder ${id}: Registered$`, 'm'));
    expect(dryRun.stderr).toBe('error: Nothing halted: add --yes to halt this order\n');
    const unchanged = await runOpsJson<OrderDetails>(['orders', 'show', id], env);
    expect(unchanged.progress.orderStatus).toBe('Registered');
    expect(unchanged.order.halted).toBeUndefined();

    const halted = await runOpsJson<{ id: string; processingStatus: { status: string }; halted: unknown }>(
      ['orders', 'halt', id, '--yes'],
      env,
    );
    // Registered: nothing was generated yet, so nothing was sent or withheld, and the order ends at once.
    expect(halted).toMatchObject({
      id,
      processingStatus: { status: 'Cancelled' },
      halted: { at: expect.stringMatching(/Z$/), sent: 0, withheld: 0, inFlight: 0 },
    });
    const shown = await runOps(['orders', 'show', id], env);
    expect(shown.stdout).toMatch(new RegExp(`^Order ${id}: Cancelled$`, 'm'));
    expect(shown.stdout).toMatch(/^Halted at \S+Z: sent 0, withheld 0, in flight 0$/m);
    // Halting is idempotent; the stream of a final order is its final snapshot, and the watch ends with it.
    expect((await runOps(['orders', 'halt', id, '--yes'], env)).code).toBe(0);
    const watched = await runOps(['orders', 'show', id, '--watch'], env);
    expect(watched).toMatchObject({ code: 0, stderr: '' });
    expect(watched.stdout).toMatch(/^\S+Z {2}Cancelled {2}0\/0 final {2}0\/s {2}ETA -\n$/);

    // Cancelled without a halt (cancel: Registered only) is final: a halt is refused with orders' 409.
    const other = await createOrder(`cancel-${suffix}`);
    const notYet = await runOps(['orders', 'cancel', other], env);
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toBe('error: Nothing cancelled: add --yes to cancel this order\n');
    expect(await runOpsJson(['orders', 'cancel', other, '--yes'], env)).toMatchObject({
      id: other,
      processingStatus: 'Cancelled',
    });
    const refused = await runOps(['orders', 'halt', other, '--yes'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `error: orders answered PUT ${orders.managementUrl}/notifications/api/v1/internal/orders/${other}/halt with 409: Order ${other} is Cancelled; only Registered, Processing and Processed orders can be halted.\n`,
    );
  });

  it('follows an order with --watch until Ctrl-C (the built CLI, a real SIGINT)', async () => {
    const id = await createOrder(`watch-${suffix}`);
    const watching = startBuiltOps(['orders', 'show', id, '--watch', '--json'], env);
    try {
      const first = await expectEventually(() => {
        const [line] = watching.stdout().split('\n');
        expect(line).toMatch(/^\{/);
        return JSON.parse(line as string) as { orderId: string; orderStatus: string };
      });
      expect(first).toMatchObject({ orderId: id, orderStatus: 'Registered' });
    } finally {
      watching.kill('SIGINT');
    }
    expect(await watching.done).toMatchObject({ code: 0, stderr: '' });
  });
});
