/**
 * `npm run demo`: one email order through the running system (`npm start` in another terminal), followed to the
 * end through the public API only.
 *
 * Checks every app answers its readiness probe, mints a development token (like `npm run token`), posts an order
 * to ordinary recipients and to the emulator's demo addresses that bounce, are suppressed and are throttled, then
 * follows the order's progress stream (`GET /orders/{id}/progress`, Server-Sent Events), printing a progress line
 * per event and, from `GET /orders/{id}/notifications/email` read at each event, one line per status change, and
 * a summary table. Exit code 0 when the order is `Completed` and every notification is final; 1 on timeout,
 * on an order that ends otherwise, or when the system is not running.
 *
 * The emulator's built-in `*@throttle.test` rule throttles every send, so a notification to such an address is
 * re-sent every ~12 s until it expires (48 h) and keeps its order from completing — and each attempt pauses all
 * sending for 2 s. The demo's throttled recipient is therefore `demo-<run>@briefly.throttle.test` (which the
 * built-in rule does not match) with a rule the demo installs: throttle its first DEMO_THROTTLE_TIMES sends. If
 * the demo is interrupted or the emulator restarts before the re-send, the address simply succeeds: nothing is
 * left behind that throttles forever.
 *
 * Settings (environment; defaults are npm start's): DEMO_ORDERS_URL, DEMO_EMAIL_SENDER_URL, DEMO_STATUS_POLLER_URL,
 * DEMO_ACS_EMULATOR_URL, DEMO_ORG (ttd), DEMO_TOKEN (else a development token), DEMO_TIMEOUT (3m),
 * DEMO_THROTTLE_TIMES (1; 0 = no throttled recipient), DEMO_SUBSCRIBE (false).
 *
 * `npm run demo -- --subscribe` (or DEMO_SUBSCRIBE=true) also creates a status subscription filtered on the demo's
 * senders reference, to an HTTP endpoint the demo runs on loopback (./subscription-receiver.ts, the README's
 * example receiver: it verifies each delivery's signature), prints every event pushed to it, and deletes the
 * subscription at the end. The order's status changes then arrive twice: read by the demo, and pushed to it.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadOrCreateDevKey, signDevToken } from '@notifications/config';
import { loadOrdersConfig } from '../config/orders.config';
import { DemoClient, HttpAnswerError, type EmulatorRule } from './demo.client';
import { loadDemoConfig, type DemoConfig } from './demo.config';
import {
  expectedDemoResult,
  formatChange,
  formatDuration,
  formatProgress,
  formatSummaryTable,
  notRunningMessage,
  recipientLabel,
} from './demo-report';
import { NotificationStatusTracker } from './demo-status.tracker';
import { SubscriptionReceiver } from './subscription-receiver';

const say = (line = ''): void => void process.stdout.write(`${line}\n`);

// Recipients are only known once the order is processed, so the column fits the demo's longest label.
const LABEL_WIDTH = 42;

// After a broken progress stream: about the server's own `retry:` hint.
const RECONNECT_DELAY_MS = 2_000;

/** The token `npm run token -- --org <org>` would print (same key file, scope, issuer and audience). */
function developmentToken(org: string): string {
  const orders = loadOrdersConfig();
  if (orders.auth.key.kind !== 'dev') {
    throw new Error(
      'This configuration does not trust the development key: set DEMO_TOKEN to a token from your issuer.',
    );
  }
  return signDevToken(loadOrCreateDevKey(orders.auth.key.devKeyFile), {
    org,
    scopes: [orders.auth.requiredScope],
    lifetimeMs: 60 * 60 * 1000,
    ...(orders.auth.issuer === undefined ? {} : { issuer: orders.auth.issuer }),
    ...(orders.auth.audience === undefined ? {} : { audience: orders.auth.audience }),
  });
}

async function checkApps(config: DemoConfig, client: DemoClient): Promise<void> {
  const results = await Promise.all(
    config.apps.map(async (app) => ({ app, readiness: await client.readiness(app) })),
  );
  const down = results.flatMap(({ app, readiness }) =>
    readiness.ready ? [] : [{ name: app.name, answers: readiness.answers, reason: readiness.reason }],
  );
  if (down.length > 0) throw new Error(notRunningMessage(down, config.apps.length));
  say(`All apps are ready: ${config.apps.map((app) => `${app.name} ${app.url}`).join(', ')}`);
}

/**
 * Follows the order on its progress stream: each event prints a progress line and reads the (small) notification
 * list for the per-recipient lines and the summary. The stream ends after the final snapshot; a broken connection
 * is resumed with Last-Event-ID (nothing already seen is sent again).
 */
async function follow(
  config: DemoConfig,
  client: DemoClient,
  token: string,
  orderId: string,
  tracker: NotificationStatusTracker,
  addresses: Map<string, string | undefined>,
  startedAt: number,
): Promise<boolean> {
  const deadline = AbortSignal.timeout(config.timeoutMs);
  const observe = async (): Promise<void> => {
    const notifications = await client.emailNotifications(token, orderId);
    const now = performance.now();
    for (const notification of notifications.notifications)
      addresses.set(notification.id, notification.recipient.emailAddress);
    const changes = tracker.observeNotifications(
      notifications.notifications.map((notification) => ({
        id: notification.id,
        recipient: recipientLabel(notification.recipient),
        status: notification.sendStatus.status,
      })),
      now,
    );
    for (const change of changes) say(formatChange(change, LABEL_WIDTH));
  };
  let lastEventId: string | undefined;
  while (!tracker.orderFinal && !deadline.aborted) {
    try {
      for await (const event of client.progress(token, orderId, lastEventId, deadline)) {
        lastEventId = event.id ?? lastEventId;
        const now = performance.now();
        const orderChange = tracker.observeOrder(event.snapshot.orderStatus, now);
        if (orderChange !== undefined) say(formatChange(orderChange, LABEL_WIDTH));
        say(formatProgress(event.snapshot, now - startedAt, LABEL_WIDTH));
        await observe();
      }
    } catch (error) {
      if (deadline.aborted) break;
      // A refusal (401, 403, 404) will not go away by retrying; a full server (429, 503) or a broken stream may.
      if (error instanceof HttpAnswerError && error.status < 500 && error.status !== 429) throw error;
      // orders restarted or the connection broke: resume after the last event seen.
      say(
        `  (progress stream interrupted: ${error instanceof Error ? error.message : String(error)}; resuming)`,
      );
      await sleep(RECONNECT_DELAY_MS);
    }
  }
  if (deadline.aborted) return false;
  // The final snapshot: the notification list once more, for any change since the last event.
  await observe();
  return tracker.done;
}

/** The demo's status subscription: a loopback receiver and the subscription pointing at it. */
interface DemoSubscription {
  readonly id: string;
  readonly receiver: SubscriptionReceiver;
  /** Events pushed so far; `orderCompleted` once the order's end has arrived. */
  readonly received: { count: number; orderCompleted: boolean };
}

async function subscribe(client: DemoClient, token: string, run: string): Promise<DemoSubscription> {
  let secret: string | undefined;
  const received = { count: 0, orderCompleted: false };
  const receiver = new SubscriptionReceiver(
    () => secret,
    (event) => {
      received.count += 1;
      if (event['type'] === 'order.completed') received.orderCompleted = true;
      const recipient = (event['recipient'] as { emailAddress?: string } | null)?.emailAddress;
      const subject = event['type'] === 'order.completed' ? 'the order' : (recipient ?? 'a recipient');
      say(`  ⇢ pushed (signature ✓)  ${String(event['type'])}: ${subject} → ${String(event['status'])}`);
    },
  );
  const url = await receiver.start();
  try {
    const subscription = await client.createSubscription(token, {
      description: `npm run demo ${run}`,
      filter: { sendersReference: `demo-${run}` },
      events: ['notification.status', 'order.completed'],
      notification: { http: { url } },
    });
    secret = subscription.secret;
    say(`Subscribed ${url} to the order's status changes (subscription ${subscription.id}).`);
    return { id: subscription.id, receiver, received };
  } catch (error) {
    await receiver.stop();
    throw error;
  }
}

/** Waits (a few seconds at most) for the order's end to be pushed, then removes the subscription. */
async function unsubscribe(client: DemoClient, token: string, subscription: DemoSubscription): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!subscription.received.orderCompleted && Date.now() < deadline) await sleep(100);
  await client.deleteSubscription(token, subscription.id);
  await subscription.receiver.stop();
  say(
    subscription.received.orderCompleted
      ? `${subscription.received.count} status events were pushed to the demo's endpoint; subscription deleted.`
      : `The order's end was not pushed within 10 s (${subscription.received.count} events arrived); subscription deleted.`,
  );
}

async function main(): Promise<number> {
  const config = loadDemoConfig();
  const client = new DemoClient(config.orders.url, config.emulatorUrl);
  await checkApps(config, client);
  const token = config.token ?? developmentToken(config.org);

  const run = randomBytes(3).toString('hex');
  const throttled = `demo-${run}@briefly.throttle.test`;
  const rules: EmulatorRule[] =
    config.throttleTimes === 0
      ? []
      : [
          {
            id: `demo-${run}-throttle`,
            match: throttled,
            times: config.throttleTimes,
            behaviour: { type: 'throttle', retryAfterSeconds: 2 },
          },
        ];
  const recipients = [
    { nationalIdentityNumber: '01017012345' }, // Ola Nordmann in the development contact points
    { organizationNumber: '910000001' }, // Eksempel AS: two notification addresses
    { emailAddress: 'per.hansen@example.com' },
    { emailAddress: `demo-${run}@bounce.test` },
    { emailAddress: `demo-${run}@suppressed.test` },
    ...(rules.length > 0 ? [{ emailAddress: throttled }] : []),
  ];

  if (rules.length > 0) await client.installEmulatorRules(rules);
  let subscription: DemoSubscription | undefined;
  try {
    if (config.subscribe) subscription = await subscribe(client, token, run);
    say(`Posting an email order to ${recipients.length} recipients as org ${config.org} (run ${run})…`);
    const startedAt = performance.now();
    const { orderId } = await client.createEmailOrder(token, {
      sendersReference: `demo-${run}`,
      subject: 'Hello $recipientName$',
      body: 'Your document is ready. (npm run demo)',
      recipients,
    });
    say(`Order ${orderId} accepted; following it (timeout ${formatDuration(config.timeoutMs)}):`);
    say(`  ${config.orders.url}/notifications/api/v1/orders/${orderId}/progress (Accept: text/event-stream)`);
    say();
    const tracker = new NotificationStatusTracker(startedAt);
    const addresses = new Map<string, string | undefined>();
    const completed = await follow(config, client, token, orderId, tracker, addresses, startedAt);

    const rows = tracker.summary().map((row) => ({
      ...row,
      expected: expectedDemoResult(addresses.get(row.id)),
    }));
    say();
    for (const line of formatSummaryTable(rows)) say(`  ${line}`);
    say();
    const throttleRule = rules[0];
    const throttledSends =
      throttleRule === undefined ? undefined : await client.emulatorRuleHits(throttleRule.id);
    if (throttledSends !== undefined && throttledSends > 0) {
      say(
        `${throttled} was refused ${throttledSends}× with 429 (Retry-After 2 s): email-sender paused all sends and ` +
          'told orders, which put the notification back to New, to be sent again after the pause and ' +
          'ORDERS_TRANSIENT_RESEND_DELAY (10 s by default).',
      );
    }
    if (subscription !== undefined) {
      await unsubscribe(client, token, subscription);
      subscription = undefined;
    }
    const orderLine = `Order ${orderId}: ${tracker.order ?? 'unknown'}`;
    if (completed) {
      say(`${orderLine} ${formatDuration(tracker.orderFinalAfterMs ?? 0)} after the POST.`);
      const unexpected = rows.filter((row) => row.status !== row.expected);
      if (unexpected.length > 0) {
        say(
          `Note: ${unexpected.length} notification(s) ended differently than the emulator's demo addresses suggest.`,
        );
      }
      return 0;
    }
    if (tracker.orderFinal) {
      throw new Error(`${orderLine}: the order ended without being sent.`);
    }
    const pending = tracker.pending();
    throw new Error(
      `Timed out after ${formatDuration(config.timeoutMs)}: ${orderLine}` +
        (pending.length > 0
          ? `, ${pending.length} notification(s) not final: ${pending.map((row) => `${row.recipient} (${row.status})`).join(', ')}.`
          : '.') +
        '\nCheck the npm start logs; DEMO_TIMEOUT sets a longer timeout.',
    );
  } finally {
    await Promise.all(rules.map((rule) => client.deleteEmulatorRule(rule.id)));
    if (subscription !== undefined) {
      await client.deleteSubscription(token, subscription.id);
      await subscription.receiver.stop();
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
