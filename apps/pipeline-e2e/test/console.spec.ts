import { mkdirSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { topicCatalog } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumExecutable } from './support/chromium';
import { fastPipelineEnv } from './support/e2e-settings';
import { Pipeline } from './support/pipeline';

// The operator console (apps/orders, /console on orders' management listener) in a real headless Chromium against
// the whole pipeline: sign in with an operator token, watch an order go from Processing to Completed, halt another
// mid-flight, replay a dead letter, look at the pipeline. CONSOLE_SCREENSHOTS=<dir> saves a PNG of each page (the
// README's are made so: CONSOLE_SCREENSHOTS=docs/console).

const SCREENSHOTS = process.env['CONSOLE_SCREENSHOTS'];
const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');
const UI_TIMEOUT_MS = 60_000;

/**
 * A send-condition endpoint that holds its answer until `release()`: the order it guards stays `Processing` for
 * exactly as long as the test wants to look at it, without any timing assumption.
 */
async function startHeldCondition(): Promise<{
  url: string;
  requests: () => number;
  release: () => void;
  close: () => Promise<void>;
}> {
  let released = false;
  let requests = 0;
  const waiting: ServerResponse[] = [];
  const answer = (response: ServerResponse): void => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"sendCondition": true}');
  };
  const server = createServer((_request, response) => {
    requests += 1;
    if (released) answer(response);
    else waiting.push(response);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/condition`,
    requests: () => requests,
    release: () => {
      released = true;
      for (const response of waiting.splice(0)) answer(response);
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const recipients = (count: number, domain: string) =>
  Array.from({ length: count }, (_, index) => ({ emailAddress: `console-${index}@${domain}` }));

describe('operator console in a browser', () => {
  let pipeline: Pipeline;
  let browser: Browser;
  let page: Page;
  let consoleUrl: string;
  const policyViolations: string[] = [];

  beforeAll(async () => {
    const executablePath = chromiumExecutable();
    [pipeline, browser] = await Promise.all([
      Pipeline.start({
        label: 'console',
        partitions: 2,
        env: fastPipelineEnv({
          // The held send condition answers when the test says, well within this.
          orders: { SEND_CONDITION_TIMEOUT: '60s' },
        }),
      }),
      chromium.launch({
        executablePath,
        headless: true,
        // Chromium refuses to run as root with its sandbox (containers, CI); elsewhere keep it.
        args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      }),
    ]);
    consoleUrl = `${pipeline.managementUrl('orders')}/console`;
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    // Halt, cancel and replay-all ask for confirmation.
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) policyViolations.push(message.text());
    });
    if (SCREENSHOTS) mkdirSync(resolve(WORKSPACE_ROOT, SCREENSHOTS), { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
  });

  afterEach(() => {
    expect(pipeline.unexpectedExits).toEqual([]);
    // The page runs under its strict policy without tripping it (no inline script or style anywhere).
    expect(policyViolations).toEqual([]);
  });

  async function screenshot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: resolve(WORKSPACE_ROOT, SCREENSHOTS, `${name}.png`) });
  }

  const status = (text: string) => page.locator('#order-status', { hasText: new RegExp(`^${text}$`) });

  /** Opens a page of the console afresh (a reload: going to the same `#…` again would not render anew). */
  async function open(hash: string): Promise<void> {
    await page.goto(`${consoleUrl}#${hash}`);
    await page.reload();
  }

  it('signs in with an operator token and finds orders by senders reference', async () => {
    await page.goto(consoleUrl);
    await page.locator('#token').fill(await pipeline.operatorToken());
    await page.locator('#login button[type=submit]').click();
    await page.locator('#order-search').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
  });

  it('shows an order live from Processing to Completed', async () => {
    const condition = await startHeldCondition();
    try {
      const orderId = await pipeline.orders.postEmailOrder({
        sendersReference: 'console-watch',
        conditionEndpoint: condition.url,
        recipients: recipients(20, 'example.org'),
      });
      await page.locator('#search-reference').fill('console-watch');
      await page.locator('#order-search button[type=submit]').click();
      await page.locator(`#orders-table a[href="#orders/${orderId}"]`).click();

      // Claimed, its send condition asked and held: Processing, as the progress stream says.
      await status('Processing').waitFor({ timeout: UI_TIMEOUT_MS });
      await expectEventually(() => expect(condition.requests()).toBeGreaterThan(0), {
        timeoutMs: UI_TIMEOUT_MS,
      });
      expect(await status('Processing').count()).toBe(1);
      condition.release();

      await status('Completed').waitFor({ timeout: UI_TIMEOUT_MS });
      const figures = page.locator('#progress-figures');
      await expectEventually(async () => {
        expect(await figures.getAttribute('data-final')).toBe('20');
      });
      expect(await figures.getAttribute('data-total')).toBe('20');
      await expectEventually(async () => {
        await page.locator('#notifications button', { hasText: 'Refresh' }).click();
        expect(await page.locator('#notifications-table tbody tr').count()).toBe(20);
        expect(await page.locator('#notifications-table .badge', { hasText: 'Delivered' }).count()).toBe(20);
      });
      await screenshot('orders');
    } finally {
      condition.release();
      await condition.close();
    }
  });

  it('halts an order mid-flight and shows how many were sent and withheld', async () => {
    // Slow sends keep the order in flight for a while: each accepted by ACS only after two seconds.
    await pipeline.emulator.addRules([
      { id: 'slow', match: '*@slow.console.test', behaviour: { type: 'succeed', responseDelayMs: 2_000 } },
    ]);
    try {
      const orderId = await pipeline.orders.postEmailOrder({
        sendersReference: 'console-halt',
        recipients: recipients(200, 'slow.console.test'),
      });
      await open(`orders/${orderId}`);
      await status('Processed').waitFor({ timeout: UI_TIMEOUT_MS });
      await page.locator('#halt').click();

      // The halt's answer: what was sent, withheld or still in flight when it was acknowledged.
      await page
        .locator('#action-message', { hasText: /Halted: \d+ sent, \d+ withheld/ })
        .waitFor({ timeout: UI_TIMEOUT_MS });
      await status('Cancelled').waitFor({ timeout: UI_TIMEOUT_MS });
      // Once final, every notification is either sent or withheld, and the slow sends left most withheld.
      const halted = page.locator('#order-halted');
      await expectEventually(
        async () => {
          await open(`orders/${orderId}`);
          const match = /(\d+) sent, (\d+) withheld$/.exec((await halted.textContent()) ?? '');
          expect(match).not.toBeNull();
          const [sent, withheld] = [Number(match?.[1]), Number(match?.[2])];
          expect(sent + withheld).toBe(200);
          expect(withheld).toBeGreaterThan(0);
        },
        { timeoutMs: UI_TIMEOUT_MS, intervalMs: 500 },
      );
      await screenshot('order-halted');
    } finally {
      await pipeline.emulator.clearRules();
    }
  });

  it('lists a dead letter with its error and replays it to its origin topic', async () => {
    const statusTopic = topicCatalog(pipeline.suffix).emailStatusUpdated;
    const deadLetterTopic = statusTopic.deadLetterTopic;
    // Not a status update at all: the orders consumer dead-letters it.
    await pipeline.withKafka(async ({ producer }) => {
      await producer.send({
        topic: statusTopic.name,
        messages: [{ key: 'console-test', value: '{"this is": "not a status update"' }],
      });
    }, true);

    const topicRow = page.locator('#dead-letter-topics tr', { hasText: deadLetterTopic });
    await expectEventually(
      async () => {
        await open('dead-letters');
        await page.locator('#dead-letter-topics').waitFor({ timeout: UI_TIMEOUT_MS });
        expect(await topicRow.locator('td').nth(1).textContent()).toBe('1');
      },
      { timeoutMs: UI_TIMEOUT_MS, intervalMs: 500 },
    );
    await screenshot('dead-letters');

    await topicRow.locator('a').first().click();
    const rows = page.locator('#dead-letter-messages tbody tr');
    await rows.first().waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(statusTopic.name);
    await rows.first().locator('button', { hasText: 'Replay' }).click();
    await page
      .locator('#replay-message', { hasText: 'Replay done: 1 replayed' })
      .waitFor({ timeout: UI_TIMEOUT_MS });

    // Handled: the consumer read it again from its origin topic and, still not a status update, dead-lettered it
    // once more, marked as the replay of the first.
    await expectEventually(
      async () => {
        await open(`dead-letters/${deadLetterTopic}`);
        await rows.first().waitFor({ timeout: UI_TIMEOUT_MS });
        expect(await rows.count()).toBe(2);
        expect(await rows.nth(1).textContent()).toContain(`x-replayed-from`);
      },
      { timeoutMs: UI_TIMEOUT_MS, intervalMs: 500 },
    );
    await screenshot('dead-letter-topic');
    // Replay all: only the second, new one; the first is below the replay record already.
    await page.locator('#replay-all').click();
    await page
      .locator('#replay-message', { hasText: /^Replay done: 1 replayed\.$/ })
      .waitFor({ timeout: UI_TIMEOUT_MS });
  });

  it("shows the pipeline: every app's consumers, the lag, the pause and the outbox", async () => {
    await open('pipeline');
    for (const app of ['orders', 'email-sender', 'status-poller']) {
      await page.locator(`[data-app="${app}"] h3 .good`).waitFor({ timeout: UI_TIMEOUT_MS });
    }
    await page.locator('#lag-table tbody tr').first().waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('#rate-limit').textContent()).toMatch(/No pause in force|Paused until/);
    expect(await page.locator('#outbox').textContent()).toMatch(/\d+ unpublished/);
    // The dead letters of the previous case are counted on orders' consumer.
    expect(await page.locator('[data-app="orders"]').textContent()).toContain('email');
    await screenshot('pipeline');
  });
});
