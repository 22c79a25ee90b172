import { randomUUID } from 'node:crypto';
import {
  EmailContract,
  HALT_PROPAGATION_MS,
  OrderHaltedContract,
  ORDER_ID_HEADER,
  type Email,
  type EmailWithheld,
} from '@notifications/contracts';
import { AcsEmulatorProcess, expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import {
  deleteTestArtifacts,
  operatorAuth,
  senderTopics,
  startSender,
  testEmail,
  testSenderEnv,
  uniqueTopicSuffix,
  type RunningSender,
  type SenderTopics,
} from './support/sender-app';
import { TopicRecorder } from './support/topic-recorder';

const SEND_CONCURRENCY = 8;

/**
 * email-sender's side of halting an order (apps/orders README, "Halt") against the real broker and the emulator:
 * an email whose `x-order-id` names an order on `orders.halted` is not sent but reported on `email.withheld`.
 */
describe('email-sender withholds the emails of halted orders', () => {
  const env = new KafkaTestEnvironment(`email-sender-halt-${randomUUID().slice(0, 8)}`);
  let topics: SenderTopics;
  let emulator: AcsEmulatorProcess;
  let sender: RunningSender;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    emulator = await AcsEmulatorProcess.start({ ACS_DEDUPLICATE_OPERATION_ID: 'false' });
    topics = senderTopics(uniqueTopicSuffix(env, 'halt'));
    sender = await startSender({
      env: testSenderEnv({
        ACS_CONNECTION_STRING: emulator.connectionString(),
        EMAIL_SEND_CONCURRENCY: String(SEND_CONCURRENCY),
      }),
      topics,
      groupId: env.uniqueName('group'),
    });
    recorder = await new TopicRecorder().start([topics.emailSendingAccepted.name, topics.emailWithheld.name]);
    // Past the first send: the consumer is in its group and the follower of orders.halted has read it.
    const first = testEmail();
    await publish([first]);
    await expectEventually(() => expect(accepted(first)).toBe(true), { timeoutMs: 40_000 });
  }, 90_000);

  afterAll(async () => {
    await recorder?.stop();
    await sender?.close();
    await emulator?.stop();
    await deleteTestArtifacts(env);
    await env.cleanup();
  });

  async function publish(emails: readonly Email[], orderId?: string): Promise<void> {
    await env.produceRaw(
      topics.emailQueue.name,
      emails.map((email) => ({
        key: email.notificationId,
        value: EmailContract.serialize(email),
        ...(orderId === undefined ? {} : { headers: { [ORDER_ID_HEADER]: orderId } }),
      })),
    );
  }

  /** As orders publishes it: acknowledged by every in-sync replica (acks=all) before this resolves. */
  /** orders' side of a halt: publish, then answer only HALT_PROPAGATION_MS after Kafka acknowledged the record. */
  async function halt(orderId: string): Promise<void> {
    await env.produceRaw(topics.ordersHalted.name, [
      { key: orderId, value: OrderHaltedContract.serialize({ orderId, haltedAt: new Date().toISOString() }) },
    ]);
    await new Promise((resolve) => setTimeout(resolve, HALT_PROPAGATION_MS));
  }

  const accepted = (email: Email): boolean =>
    recorder.valuesFor(topics.emailSendingAccepted.name, email.notificationId).length > 0;
  const withheld = (email: Email): EmailWithheld[] =>
    recorder.valuesFor<EmailWithheld>(topics.emailWithheld.name, email.notificationId);

  it('withholds every email of a halted order and sends those of other orders and without an order id', async () => {
    const haltedOrder = randomUUID();
    const otherOrder = randomUUID();
    await halt(haltedOrder);
    const ofHalted = Array.from({ length: 20 }, () => testEmail());
    const ofOther = Array.from({ length: 5 }, () => testEmail());
    const unlabelled = Array.from({ length: 2 }, () => testEmail());
    await publish(ofHalted, haltedOrder);
    await publish(ofOther, otherOrder);
    await publish(unlabelled);

    await expectEventually(() => {
      for (const email of ofHalted)
        expect(withheld(email)).toEqual([{ notificationId: email.notificationId, orderId: haltedOrder }]);
      for (const email of [...ofOther, ...unlabelled]) expect(accepted(email)).toBe(true);
    });
    for (const email of ofHalted) {
      expect(accepted(email)).toBe(false);
      expect(await emulator.messagesWithOperationId(email.notificationId)).toEqual([]);
    }
    const stats = (await (
      await fetch(`${sender.managementUrl}/stats`, { headers: operatorAuth.headers() })
    ).json()) as {
      sending: { outcomes: { withheld: number } };
      halts: { haltedOrders: number; offsetRequests: number };
    };
    expect(stats.sending.outcomes.withheld).toBeGreaterThanOrEqual(20);
    expect(stats.halts.haltedOrders).toBeGreaterThanOrEqual(1);
    // The replica's view of orders.halted came from Kafka's end offsets (ListOffsets requests were made).
    expect(stats.halts.offsetRequests).toBeGreaterThan(0);
  });

  it('stops sending once the halt is acknowledged, except the sends already in flight', async () => {
    await emulator.addRules({
      match: '*@slow-halt.test',
      behaviour: { type: 'succeed', responseDelayMs: 300 },
    });
    const orderId = randomUUID();
    const emails = Array.from({ length: 60 }, () => {
      const email = testEmail();
      return { ...email, toAddress: `${email.notificationId.slice(0, 8)}@slow-halt.test` };
    });
    await publish(emails, orderId);
    await expectEventually(
      async () => expect((await sentOf(emails)).length).toBeGreaterThanOrEqual(SEND_CONCURRENCY),
      {
        intervalMs: 50,
      },
    );

    await halt(orderId);
    const acknowledgedAt = Date.now();

    await expectEventually(() => {
      for (const email of emails) expect(accepted(email) || withheld(email).length > 0).toBe(true);
    });
    const sent = await sentOf(emails);
    const afterAck = sent.filter((message) => Date.parse(message.receivedAt) > acknowledgedAt);
    expect(afterAck.length).toBeLessThanOrEqual(SEND_CONCURRENCY);
    const withheldIds = new Set(
      emails.filter((email) => withheld(email).length > 0).map((e) => e.notificationId),
    );
    expect(withheldIds.size).toBeGreaterThan(0);
    // Each email either reached ACS (and was reported accepted) or was withheld, never both.
    expect(sent.filter((message) => withheldIds.has(message.operationId))).toEqual([]);
    expect(sent.length + withheldIds.size).toBe(emails.length);
  });

  async function sentOf(emails: readonly Email[]) {
    const ids = new Set(emails.map((email) => email.notificationId));
    return (await emulator.messages()).filter((message) => ids.has(message.operationId));
  }
});
