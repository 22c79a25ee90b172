import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACS_EMAIL_RESOURCE, topicCatalog } from '@notifications/contracts';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { expectEventually, OperatorTestAuth } from '@notifications/testing';
import { testKafkaConnection } from '@notifications/messaging/testing';
import { type Admin } from 'kafkajs';
import { deleteSuffixedTopics, opsEnv, testAdmin } from './support/kafka-env';
import { migrateOrders, startApp, type AppProcess } from './support/app-process';
import { runOps, runOpsJson } from './support/run-ops';

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

/**
 * `rate-limit` and `outbox` against the real apps (built, in child processes): orders on its own database and
 * email-sender, both on topics of their own (KAFKA_TOPIC_SUFFIX).
 */
describe('rate-limit and outbox commands', () => {
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
});
