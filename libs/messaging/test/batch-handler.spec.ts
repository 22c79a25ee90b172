import { EmailContract, type Email, type TopicDefinition } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import {
  InfrastructureUnavailableError,
  KafkaRuntime,
  MessagingHeaders,
  PermanentError,
  TransientError,
  handlerFor,
  silentLogger,
  type BatchMessage,
  type BatchOutcome,
  type ConsumerRunner,
  type MessageContext,
} from '../src';
import { testEmail } from './fixtures/email-messages';

describe('ConsumerRunner with a batch handler, against a real broker', () => {
  let env: KafkaTestEnvironment;
  let runtimes: KafkaRuntime[];

  beforeEach(() => {
    env = new KafkaTestEnvironment('batches');
    runtimes = [];
  });

  afterEach(async () => {
    await Promise.allSettled(runtimes.map((runtime) => runtime.shutdown()));
    await env.cleanup();
  });

  async function emailTopic(label: string, partitions = 1): Promise<TopicDefinition<Email>> {
    const topic = env.defineTopic(label, EmailContract, (email) => email.notificationId);
    await env.createTopics(topic, partitions);
    return topic;
  }

  async function start(
    topic: TopicDefinition<Email>,
    groupId: string,
    handlers: {
      handle(email: Email, context: MessageContext): Promise<void>;
      handleBatch(messages: readonly BatchMessage<Email>[]): Promise<BatchOutcome | void>;
    },
    maxBatchSize = 500,
  ): Promise<ConsumerRunner> {
    const rt = new KafkaRuntime(env.connection, silentLogger);
    runtimes.push(rt);
    const consumer = rt.createConsumer(
      {
        groupId,
        sessionTimeoutMs: 10_000,
        retryPolicy: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 },
        outageBackoff: { initialDelayMs: 200, maxDelayMs: 400 },
      },
      [
        handlerFor({
          topic,
          handle: (email, context) => handlers.handle(email, context),
          handleBatch: (messages) => handlers.handleBatch(messages),
          maxBatchSize,
        }),
      ],
    );
    await consumer.start();
    return consumer;
  }

  const notHandledAlone = async (): Promise<void> => {
    throw new Error('the per-message handler was not expected to run');
  };

  it('hands the valid messages of a fetched batch over at once, at most maxBatchSize, commits them, and dead-letters invalid ones', async () => {
    const topic = await emailTopic('batch');
    const groupId = env.uniqueName('group');
    const emails = Array.from({ length: 25 }, () => testEmail());
    const deadLetters = await env.read([topic.deadLetterTopic]);
    // All on the broker before the consumer starts: its first fetch brings them together.
    await env.produceRaw(topic.name, [
      { key: 'poison', value: '{"notificationId": ' },
      ...emails.map((email) => ({ key: email.notificationId, value: EmailContract.serialize(email) })),
    ]);
    const batches: BatchMessage<Email>[][] = [];
    const runner = await start(
      topic,
      groupId,
      {
        handle: notHandledAlone,
        handleBatch: async (messages) => {
          batches.push([...messages]);
        },
      },
      10,
    );

    await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(26), {
      timeoutMs: 30_000,
    });
    const handled = batches.flat();
    expect(handled.map(({ message }) => message.notificationId)).toEqual(
      emails.map((email) => email.notificationId),
    );
    expect(handled.map(({ context }) => Number(context.offset))).toEqual(
      Array.from({ length: 25 }, (_, index) => index + 1),
    );
    expect(handled.every(({ context }) => context.attempt === 1 && context.topic === topic.name)).toBe(true);
    expect(Math.max(...batches.map((batch) => batch.length))).toBe(10);
    expect(batches.length).toBeLessThan(25);
    await expectEventually(() => expect(deadLetters).toHaveLength(1));
    expect(deadLetters[0]!.headers[MessagingHeaders.deadLetterReason]).toBe('invalid-message');
    expect(runner.statistics()).toMatchObject({ received: 26, handled: 25, deadLettered: 1, inProcess: 0 });
  });

  it('falls back to the per-message handler when the batch handler throws, so only the failing message is retried', async () => {
    const topic = await emailTopic('fallback');
    const groupId = env.uniqueName('group');
    const emails = Array.from({ length: 6 }, () => testEmail());
    const bad = emails[2]!;
    const retries = await env.read([topic.retryTopic!]);
    await env.produceRaw(
      topic.name,
      emails.map((email) => ({ key: email.notificationId, value: EmailContract.serialize(email) })),
    );
    const alone: { id: string; attempt: number }[] = [];
    let batchCalls = 0;
    const runner = await start(topic, groupId, {
      handle: async (email, context) => {
        if (email.notificationId === bad.notificationId && context.attempt === 1)
          throw new TransientError('not yet');
        alone.push({ id: email.notificationId, attempt: context.attempt });
      },
      handleBatch: async () => {
        batchCalls += 1;
        throw new Error('the batch statement failed');
      },
    });

    await expectEventually(
      () => expect(alone.map(({ id }) => id).sort()).toEqual(emails.map((e) => e.notificationId).sort()),
      { timeoutMs: 30_000 },
    );
    expect(batchCalls).toBeGreaterThanOrEqual(2);
    // Every message once, in offset order on the first pass; the failing one again from the retry topic.
    expect(alone.filter(({ attempt }) => attempt === 1).map(({ id }) => id)).toEqual(
      emails.filter((e) => e !== bad).map((e) => e.notificationId),
    );
    expect(alone.find(({ id }) => id === bad.notificationId)?.attempt).toBe(2);
    expect(retries.map((record) => record.key)).toEqual([bad.notificationId]);
    await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(6));
    expect(runner.statistics()).toMatchObject({ received: 7, handled: 6, retried: 1, inProcess: 0 });
  });

  it('routes the failures a batch handler reports like thrown ones and counts the rest handled', async () => {
    const topic = await emailTopic('reported');
    const groupId = env.uniqueName('group');
    const emails = Array.from({ length: 4 }, () => testEmail());
    const bad = emails[1]!;
    const deadLetters = await env.read([topic.deadLetterTopic]);
    await env.produceRaw(
      topic.name,
      emails.map((email) => ({ key: email.notificationId, value: EmailContract.serialize(email) })),
    );
    const handled: string[] = [];
    const runner = await start(topic, groupId, {
      handle: notHandledAlone,
      handleBatch: async (messages) => {
        const failures = new Map<number, unknown>();
        messages.forEach(({ message }, index) => {
          if (message.notificationId === bad.notificationId)
            failures.set(index, new PermanentError('never deliverable'));
          else handled.push(message.notificationId);
        });
        return { failures };
      },
    });

    await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(4), {
      timeoutMs: 30_000,
    });
    await expectEventually(() => expect(deadLetters).toHaveLength(1));
    expect(deadLetters[0]!.key).toBe(bad.notificationId);
    expect(deadLetters[0]!.headers).toMatchObject({
      [MessagingHeaders.deadLetterReason]: 'permanent-failure',
      [MessagingHeaders.errorMessage]: 'never deliverable',
    });
    expect(handled).toEqual(emails.filter((e) => e !== bad).map((e) => e.notificationId));
    expect(runner.statistics()).toMatchObject({ received: 4, handled: 3, deadLettered: 1, inProcess: 0 });
  });

  it('pauses on an outage the batch handler reports and hands the same messages over again, at attempt 1', async () => {
    const topic = await emailTopic('outage');
    const groupId = env.uniqueName('group');
    const emails = Array.from({ length: 5 }, () => testEmail());
    await env.produceRaw(
      topic.name,
      emails.map((email) => ({ key: email.notificationId, value: EmailContract.serialize(email) })),
    );
    let outages = 2;
    const delivered: { id: string; attempt: number }[] = [];
    const runner = await start(topic, groupId, {
      handle: notHandledAlone,
      handleBatch: async (messages) => {
        if (outages > 0) {
          outages -= 1;
          throw new InfrastructureUnavailableError('postgresql', 'connection refused');
        }
        for (const { message, context } of messages)
          delivered.push({ id: message.notificationId, attempt: context.attempt });
      },
    });

    await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(5), {
      timeoutMs: 30_000,
    });
    expect(delivered).toEqual(emails.map((email) => ({ id: email.notificationId, attempt: 1 })));
    expect(runner.statistics()).toMatchObject({ handled: 5, retried: 0, deadLettered: 0, inProcess: 0 });
  });
});
