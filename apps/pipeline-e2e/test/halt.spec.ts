import { expectEventually } from '@notifications/testing';
import { fastPipelineEnv } from './support/e2e-settings';
import { NotificationLedger } from './support/notification-ledger';
import { Pipeline } from './support/pipeline';

// Halting an order mid-flight through the whole pipeline (apps/orders README, "Halt"): the apps as processes, the
// real broker and PostgreSQL, the emulator slowed down so that thousands of emails are queued and in flight when
// the halt comes.

const RECIPIENTS = 3_000;
/** email-sender's send slots (one replica): the most sends that can be in flight when the halt is acknowledged. */
const SEND_CONCURRENCY = 16;
/** Each send takes this long at the emulator, so the order is far from done when it is halted. */
const RESPONSE_DELAY_MS = 250;
const DOMAIN = 'halt.example.org';

interface HaltedView {
  readonly processingStatus: { readonly status: string };
  readonly halted?: {
    readonly at: string;
    readonly sent: number;
    readonly withheld: number;
    readonly inFlight: number;
  };
}

describe('halting an order mid-flight', () => {
  let pipeline: Pipeline;
  let ledger: NotificationLedger;

  beforeAll(async () => {
    pipeline = await Pipeline.start({
      label: 'halt',
      partitions: 6,
      env: fastPipelineEnv({ 'email-sender': { EMAIL_SEND_CONCURRENCY: String(SEND_CONCURRENCY) } }),
    });
    ledger = new NotificationLedger(pipeline.query);
    await pipeline.emulator.addRules([
      {
        id: 'slow',
        match: `*@${DOMAIN}`,
        behaviour: { type: 'succeed', responseDelayMs: RESPONSE_DELAY_MS },
      },
    ]);
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  async function halt(orderId: string, org = 'ttd'): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${pipeline.url('orders')}/notifications/api/v1/orders/${orderId}/halt`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await pipeline.token(org)}` },
    });
    return { status: response.status, body: await response.json() };
  }

  it(`sends nothing of a ${RECIPIENTS}-recipient order after the halt is acknowledged, beyond the sends in flight`, async () => {
    const orderId = await pipeline.orders.postEmailOrder({
      recipients: Array.from({ length: RECIPIENTS }, (_, index) => ({
        emailAddress: `user-${index}@${DOMAIN}`,
      })),
    });
    const ids = new Set((await waitForNotifications(orderId)).map((row) => row.id));
    const sentOfOrder = async () =>
      (await pipeline.emulator.messages()).filter((m) => ids.has(m.operationId));
    // Mid-flight: a hundred emails sent, thousands queued on email.queue or in the outbox.
    await expectEventually(
      async () => expect((await pipeline.emulator.stats()).messages).toBeGreaterThanOrEqual(100),
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );

    const requestedAt = Date.now();
    const response = await halt(orderId);
    const acknowledgedAt = Date.now();
    const haltMs = acknowledgedAt - requestedAt;
    expect(response.status).toBe(200);
    expect((response.body as HaltedView).halted).toBeDefined();

    // Every notification ends with its send result or Cancelled; the order ends Cancelled.
    const final = await expectEventually(
      async () => {
        expect(await ledger.pending([orderId])).toBe(0);
        const status = (await (
          await fetch(`${pipeline.url('orders')}/notifications/api/v1/orders/${orderId}/status`, {
            headers: { authorization: `Bearer ${await pipeline.token('ttd')}` },
          })
        ).json()) as HaltedView;
        expect(status.processingStatus.status).toBe('Cancelled');
        return { ...status, settledAt: Date.now() };
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    const sent = await sentOfOrder();
    // A send the emulator records after the acknowledgement started before it (its check came first): at most
    // one per send slot. None started later: those are withheld.
    const afterAck = sent.filter((message) => Date.parse(message.receivedAt) > acknowledgedAt);
    expect(afterAck.length).toBeLessThanOrEqual(SEND_CONCURRENCY);
    // The emulator holds exactly the notifications that were not withheld, once each.
    const results = await ledger.rows([orderId]);
    const cancelled = results.filter((row) => row.result === 'Cancelled');
    const notCancelled = results.filter((row) => row.result !== 'Cancelled');
    const sentIds = new Set(sent.map((message) => message.operationId));
    expect(sent).toHaveLength(sentIds.size);
    expect(cancelled.filter((row) => sentIds.has(row.id))).toEqual([]);
    expect(notCancelled.filter((row) => !sentIds.has(row.id))).toEqual([]);
    expect(notCancelled.every((row) => row.result === 'Delivered')).toBe(true);
    // Halted mid-flight indeed: most of the order was withheld.
    expect(cancelled.length).toBeGreaterThan(RECIPIENTS / 2);
    expect(final.halted).toEqual({
      at: expect.any(String),
      sent: notCancelled.length,
      withheld: cancelled.length,
      inFlight: 0,
    });
    expect(notCancelled.length + cancelled.length).toBe(RECIPIENTS);
    console.log(
      `halt: ${notCancelled.length} sent, ${cancelled.length} withheld, ${afterAck.length} recorded after the ` +
        `acknowledgement (bound ${SEND_CONCURRENCY}); halt answered in ${haltMs} ms, order Cancelled ` +
        `${final.settledAt - acknowledgedAt} ms after it`,
    );

    // Idempotent: halting again answers the same final view.
    const again = await halt(orderId);
    expect(again.status).toBe(200);
    expect((again.body as HaltedView).halted).toEqual(final.halted);
    expect((again.body as HaltedView).processingStatus.status).toBe('Cancelled');
    // Another organisation does not see it.
    expect((await halt(orderId, 'nav')).status).toBe(404);
  });

  it('answers 409 for an order that completed without a halt', async () => {
    const orderId = await pipeline.orders.postEmailOrder({
      recipients: [{ emailAddress: `done@${DOMAIN}` }],
    });
    await expectEventually(
      async () => expect(await pipeline.orders.processingStatus(orderId)).toBe('Completed'),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    const response = await halt(orderId);
    expect(response.status).toBe(409);
    expect((response.body as { detail: string }).detail).toMatch(/Completed/);
  });

  async function waitForNotifications(orderId: string) {
    return expectEventually(
      async () => {
        const rows = await ledger.rows([orderId]);
        expect(rows).toHaveLength(RECIPIENTS);
        return rows;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }
});
