import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectEventually } from '@notifications/testing';
import { fastPipelineEnv } from './support/e2e-settings';
import { NotificationLedger } from './support/notification-ledger';
import { isFinal } from './support/orders-api';
import { Pipeline } from './support/pipeline';

// Whole-pipeline tests: the four apps as real processes (built dist), the real broker and PostgreSQL, the ACS
// emulator driven by the real SDK. Each suite has its own database and topic suffix.

const run = promisify(execFile);
// What `npm run demo` runs (apps/orders/project.json), built with the apps the pipeline starts.
const DEMO_SCRIPT = join(__dirname, '..', '..', 'orders', 'dist', 'tools', 'demo.js');

const recipients = (count: number, domain: string, prefix = 'user') =>
  Array.from({ length: count }, (_, index) => ({ emailAddress: `${prefix}-${index}@${domain}` }));

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

describe('notification pipeline', () => {
  let pipeline: Pipeline;
  let ledger: NotificationLedger;

  beforeAll(async () => {
    pipeline = await Pipeline.start({ label: 'e2e', partitions: 6, env: fastPipelineEnv() });
    ledger = new NotificationLedger(pipeline.query);
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** `npm run demo`'s settings pointing at this pipeline. */
  const demoEnv = async (): Promise<NodeJS.ProcessEnv> => ({
    ...process.env,
    DEMO_ORDERS_URL: pipeline.url('orders'),
    DEMO_EMAIL_SENDER_URL: pipeline.url('email-sender'),
    DEMO_STATUS_POLLER_URL: pipeline.url('status-poller'),
    DEMO_ACS_EMULATOR_URL: pipeline.url('acs-emulator'),
    DEMO_TOKEN: await pipeline.token('ttd'),
    DEMO_TIMEOUT: '90s',
  });

  afterEach(async () => {
    await pipeline.emulator.clearRules();
    await pipeline.emulator.setRateLimit(null);
    // A crash anywhere fails the test that was running, with the app's last lines.
    expect(pipeline.unexpectedExits).toEqual([]);
  });

  it('delivers an order for 600 recipients: every notification final, the order Completed, one email each', async () => {
    const orderId = await pipeline.orders.postEmailOrder({ recipients: recipients(600, 'example.org') });

    await expectEventually(
      async () => {
        expect(await ledger.countsByResult([orderId])).toEqual({ Delivered: 600 });
        expect(await pipeline.orders.processingStatus(orderId)).toBe('Completed');
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );

    const notifications = await pipeline.orders.notifications(orderId);
    expect(notifications).toHaveLength(600);
    expect(notifications.every((n) => n.sendStatus.status === 'Delivered' && n.succeeded)).toBe(true);
    const perOperation = await pipeline.emulator.messagesPerOperation();
    for (const notification of notifications) expect(perOperation.get(notification.id)).toBe(1);
    // The messages went to the right people: one per recipient address.
    const messages = (await pipeline.emulator.messages()).filter((m) =>
      notifications.some((n) => n.id === m.operationId),
    );
    const addresses = new Set(messages.map((m) => m.recipients.to[0]?.address));
    expect(addresses.size).toBe(600);
  });

  it('pauses while ACS throttles and then delivers everything, none lost and none doubled', async () => {
    // Every send is refused with 429 for the first few seconds, as an exhausted ACS quota would be.
    await pipeline.emulator.addRules([
      {
        id: 'quota',
        match: '*@throttled.example.org',
        forMs: 4_000,
        behaviour: { type: 'throttle', retryAfterSeconds: 3 },
      },
    ]);
    const before = await pipeline.emulator.stats();
    const orderId = await pipeline.orders.postEmailOrder({
      recipients: recipients(200, 'throttled.example.org'),
    });

    // The pause is visible in orders while it lasts: claims stop until the reset time.
    await expectEventually(
      async () => {
        const response = await fetch(
          `${pipeline.managementUrl('orders')}/notifications/api/v1/internal/status`,
          {
            headers: { authorization: `Bearer ${await pipeline.operatorToken()}` },
          },
        );
        const status = (await response.json()) as { emailRateLimit?: { paused?: boolean } };
        expect(status.emailRateLimit?.paused).toBe(true);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    await expectEventually(
      async () => {
        expect(await ledger.countsByResult([orderId])).toEqual({ Delivered: 200 });
        expect(await pipeline.orders.processingStatus(orderId)).toBe('Completed');
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    const after = await pipeline.emulator.stats();
    const throttled = (after.requests.send['429'] ?? 0) - (before.requests.send['429'] ?? 0);
    expect(throttled).toBeGreaterThan(0);
    // Paused, not hammering: far fewer refused requests than emails (each email would otherwise be refused and
    // retried on its own).
    expect(throttled).toBeLessThan(200);
    const perOperation = await pipeline.emulator.messagesPerOperation();
    const notifications = await ledger.rows([orderId]);
    expect(notifications.filter((n) => perOperation.get(n.id) !== 1)).toEqual([]);
  });

  it('ends scripted failures in the right final results: bounce, suppressed, invalid, dropped, 5xx burst', async () => {
    // Two 503s for every send to this domain, then success: retried, not failed.
    await pipeline.emulator.addRules([
      { id: 'burst', match: '*@burst.example.org', times: 40, behaviour: 'serverError' },
    ]);
    const order = [
      ...recipients(10, 'example.org', 'ok'),
      ...recipients(5, 'bounce.test'),
      ...recipients(5, 'suppressed.test'),
      ...recipients(5, 'invalid.test'),
      ...recipients(5, 'fail.test'),
      ...recipients(20, 'burst.example.org'),
    ];
    const orderId = await pipeline.orders.postEmailOrder({ recipients: order });

    const notifications = await expectEventually(
      async () => {
        const rows = await ledger.rows([orderId]);
        expect(rows).toHaveLength(order.length);
        expect(rows.filter((n) => !isFinal(n.result))).toEqual([]);
        expect(await pipeline.orders.processingStatus(orderId)).toBe('Completed');
        return rows;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );

    const byDomain = (domain: string) =>
      countBy(
        notifications.filter((n) => n.toAddress?.endsWith(`@${domain}`)),
        (n) => n.result,
      );
    expect(byDomain('example.org')).toEqual({ Delivered: 10 });
    expect(byDomain('bounce.test')).toEqual({ Failed_Bounced: 5 });
    expect(byDomain('suppressed.test')).toEqual({ Failed_SupressedRecipient: 5 });
    expect(byDomain('invalid.test')).toEqual({ Failed_InvalidEmailFormat: 5 });
    expect(byDomain('fail.test')).toEqual({ Failed: 5 });
    expect(byDomain('burst.example.org')).toEqual({ Delivered: 20 });

    // One email per accepted notification; the refused ones (invalid) were never recorded.
    const perOperation = await pipeline.emulator.messagesPerOperation();
    for (const n of notifications) {
      expect([n.toAddress, perOperation.get(n.id) ?? 0]).toEqual([
        n.toAddress,
        n.result === 'Failed_InvalidEmailFormat' ? 0 : 1,
      ]);
    }
  });

  it('npm run demo follows its order on the progress stream to Completed and exits 0', async () => {
    const { stdout } = await run(process.execPath, [DEMO_SCRIPT], {
      env: await demoEnv(),
      timeout: 120_000,
    });
    const progressLines = stdout.split('\n').filter((line) => /^\s+\+[\d.ms]+\s+progress\s/.test(line));
    // The throttled recipient waits out a pause and a resend: several snapshots, the last one final.
    expect(progressLines.length).toBeGreaterThanOrEqual(2);
    expect(progressLines.at(-1)).toMatch(/progress\s+Completed 7\/7 final/);
    // The summary table and the closing line are still there.
    expect(stdout).toMatch(/Order [0-9a-f-]{36}: Completed/);
    expect(stdout).toMatch(/Failed_Bounced/);
  });

  it("npm run demo -- --subscribe also receives the order's changes pushed, signed, to its own endpoint, then deletes the subscription", async () => {
    const { stdout } = await run(process.execPath, [DEMO_SCRIPT, '--subscribe'], {
      env: { ...(await demoEnv()), DEMO_THROTTLE_TIMES: '0' },
      timeout: 120_000,
    });
    expect(stdout).toMatch(/Subscribed http:\/\/127\.0\.0\.1:\d+\/\S+ to the order's status changes/);
    // Six notifications: each pushed at least as New and in its final state, then the order's end.
    const pushed = stdout.split('\n').filter((line) => line.includes('⇢ pushed (signature ✓)'));
    expect(pushed.filter((line) => /notification\.status: .* → New$/.test(line))).toHaveLength(6);
    expect(
      pushed.filter((line) => /→ (Delivered|Failed_Bounced|Failed_SupressedRecipient)$/.test(line)),
    ).toHaveLength(6);
    expect(pushed.at(-1)).toMatch(/order\.completed: the order → Completed$/);
    expect(stdout).toMatch(/\d+ status events were pushed to the demo's endpoint; subscription deleted\./);
    expect(await pipeline.query('SELECT id FROM subscriptions', [])).toEqual([]);
  });
});
