import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EmailContract, type Email, type TopicDefinition } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import { Kafka, logLevel } from 'kafkajs';
import {
  ConsumerLivenessCheck,
  InfrastructureUnavailableError,
  KafkaRuntime,
  MessagingHeaders,
  PermanentError,
  TransientError,
  handlerFor,
  silentLogger,
  type ConsumerRunner,
  type MessageContext,
  type OutagePause,
} from '../src';
import { testEmail } from './fixtures/email-messages';

const keyOf = (email: Email) => email.notificationId;

describe('ConsumerRunner against a real broker', () => {
  let env: KafkaTestEnvironment;
  let runtimes: KafkaRuntime[];

  beforeEach(() => {
    env = new KafkaTestEnvironment('runner');
    runtimes = [];
  });

  afterEach(async () => {
    await Promise.allSettled(runtimes.map((runtime) => runtime.shutdown()));
    await env.cleanup();
  });

  /** The id of the group's only member, once it has one. */
  async function groupMember(groupId: string): Promise<string> {
    const admin = new Kafka({ brokers: [...env.connection.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return await expectEventually(async () => {
        const { groups } = await admin.describeGroups([groupId]);
        expect(groups[0]?.members).toHaveLength(1);
        return groups[0]!.members[0]!.memberId;
      });
    } finally {
      await admin.disconnect();
    }
  }

  function runtime(): KafkaRuntime {
    const created = new KafkaRuntime(env.connection, silentLogger);
    runtimes.push(created);
    return created;
  }

  async function emailTopic(label: string, partitions = 3): Promise<TopicDefinition<Email>> {
    const topic = env.defineTopic(label, EmailContract, keyOf);
    await env.createTopics(topic, partitions);
    return topic;
  }

  function startConsumer(
    rt: KafkaRuntime,
    topic: TopicDefinition<Email>,
    groupId: string,
    handle: (email: Email, context: MessageContext) => Promise<void>,
    options: {
      maxAttempts?: number;
      initialDelayMs?: number;
      perPartitionConcurrency?: number;
      sessionTimeoutMs?: number;
      outageBackoff?: { initialDelayMs: number; maxDelayMs: number };
      stallThresholdMs?: number;
    } = {},
  ): Promise<ConsumerRunner> {
    const consumer = rt.createConsumer(
      {
        groupId,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        ...(options.outageBackoff ? { outageBackoff: options.outageBackoff } : {}),
        ...(options.stallThresholdMs ? { stallThresholdMs: options.stallThresholdMs } : {}),
        perPartitionConcurrency: options.perPartitionConcurrency ?? 1,
        retryPolicy: {
          maxAttempts: options.maxAttempts ?? 3,
          initialDelayMs: options.initialDelayMs ?? 500,
          multiplier: 2,
          maxDelayMs: 5_000,
        },
      },
      [handlerFor({ topic, handle })],
    );
    return consumer.start().then(() => consumer);
  }

  it('commits an offset only after its message was handled', async () => {
    const topic = await emailTopic('commit', 2);
    const groupId = env.uniqueName('group');
    const rt = runtime();
    const admin = new Kafka({ brokers: [...env.connection.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const committed = async (): Promise<Map<number, number>> => {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic.name] });
      return new Map((entry?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
    };
    try {
      // 21 emails with random keys: both partitions, all but surely. All are on the broker before the consumer
      // starts, so its first fetch brings both partitions (kafkajs fetches again only when a fetch is done).
      await rt.producer.publishAll(
        topic,
        Array.from({ length: 21 }, () => testEmail()),
      );
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // The first message at offset 1 blocks until released; the others (also later ones on its partition, with
      // three in flight per partition) are handled meanwhile.
      let gated: { partition: number; offset: number } | undefined;
      const handled: { partition: number; offset: number }[] = [];
      await startConsumer(
        rt,
        topic,
        groupId,
        async (_email, context) => {
          const position = { partition: context.partition, offset: Number(context.offset) };
          if (gated === undefined && position.offset === 1) {
            gated = position;
            await gate;
          }
          handled.push(position);
        },
        { perPartitionConcurrency: 3 },
      );
      await expectEventually(() => expect(handled).toHaveLength(20), { timeoutMs: 30_000 });
      const blocked = gated!;
      const otherPartition = 1 - blocked.partition;
      const otherHandled = handled.filter((p) => p.partition === otherPartition);
      const laterOnBlocked = handled.filter((p) => p.partition === blocked.partition);
      expect(otherHandled.length).toBeGreaterThan(0);
      expect(laterOnBlocked.length).toBeGreaterThan(0);

      // The consumer commits while the gated message is in flight: the other partition's handled messages are
      // committed. The gated partition's committed position stays at the gated message, although later ones
      // there were handled.
      const otherEnd = Math.max(...otherHandled.map((p) => p.offset)) + 1;
      await expectEventually(async () => expect((await committed()).get(otherPartition)).toBe(otherEnd));
      expect((await committed()).get(blocked.partition) ?? 0).toBe(blocked.offset);

      release();
      const blockedEnd = Math.max(...laterOnBlocked.map((p) => p.offset)) + 1;
      await expectEventually(async () => expect((await committed()).get(blocked.partition)).toBe(blockedEnd));
      expect(await env.committedCount(groupId, topic.name)).toBe(21);
    } finally {
      await admin.disconnect();
    }
  });

  it('marks messages that were in the partition at its first fetch as maybe handled before, later ones not', async () => {
    const topic = await emailTopic('handled-before', 1);
    const groupId = env.uniqueName('group');
    const rt = runtime();
    const backlog = [testEmail(), testEmail()];
    await rt.producer.publishAll(topic, backlog);
    const seen = new Map<string, boolean>();
    await startConsumer(rt, topic, groupId, async (email, context) => {
      seen.set(email.notificationId, context.maybeHandledBefore);
    });
    await expectEventually(() => expect(seen.size).toBe(2));

    const fresh = testEmail();
    await rt.producer.publish(topic, fresh);
    await expectEventually(() => expect(seen.size).toBe(3));

    // An earlier member of the group may have handled the backlog without committing it; nobody had the new one.
    expect(backlog.map((email) => seen.get(email.notificationId))).toEqual([true, true]);
    expect(seen.get(fresh.notificationId)).toBe(false);
  });

  it('redelivers a message to the group when the consumer is killed before committing it', async () => {
    const topic = await emailTopic('crash', 1);
    const groupId = env.uniqueName('group');
    const email = testEmail();
    await runtime().producer.publish(topic, email);

    const child = spawn(
      process.execPath,
      [
        '--conditions=@notifications/source',
        '-r',
        '@swc-node/register',
        join(__dirname, 'fixtures', 'crashing-consumer.ts'),
        topic.name,
        groupId,
        env.connection.brokers.join(','),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '..', 'tsconfig.spec.json') },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await expectEventually(() => expect(output).toContain(`received ${email.notificationId}`), {
        timeoutMs: 60_000,
      });
    } finally {
      child.kill('SIGKILL');
    }
    expect(await env.committedCount(groupId, topic.name)).toBe(0);

    const redelivered: string[] = [];
    await startConsumer(runtime(), topic, groupId, async (message) => {
      redelivered.push(message.notificationId);
    });
    // The dead member holds the partition until its session times out; then the message comes back.
    await expectEventually(() => expect(redelivered).toEqual([email.notificationId]), { timeoutMs: 60_000 });
    await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(1));
  }, 120_000);

  it('retries a transient failure through the retry topic after the delay, then succeeds', async () => {
    const topic = await emailTopic('retry');
    const email = testEmail();
    const attempts: { attempt: number; at: number; receivedFrom: string }[] = [];
    const rt = runtime();
    await startConsumer(
      rt,
      topic,
      env.uniqueName('group'),
      async (_message, context) => {
        attempts.push({ attempt: context.attempt, at: Date.now(), receivedFrom: context.receivedFrom });
        if (context.attempt === 1) throw new TransientError('dependency unavailable', { delayMs: 1_500 });
      },
      { initialDelayMs: 200 },
    );
    await rt.producer.publish(topic, email);

    await expectEventually(() => expect(attempts).toHaveLength(2));
    const [first, second] = attempts;
    expect(first).toMatchObject({ attempt: 1, receivedFrom: topic.name });
    expect(second).toMatchObject({ attempt: 2, receivedFrom: topic.retryTopic });
    // The handler asked for at least 1.5 s; the retry must not come earlier.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_500);
  });

  it('pauses the partition through an outage longer than the session timeout and handles the same message at attempt 1 afterwards', async () => {
    const topic = await emailTopic('outage', 1);
    const groupId = env.uniqueName('group');
    const [unlucky, next] = [testEmail(), testEmail()];
    const rt = runtime();
    const pauses: OutagePause[] = [];
    rt.instrument({ consumerPaused: (_group, pause) => void pauses.push(pause) });
    const seen: { id: string; attempt: number }[] = [];
    const outageEndsAt = Date.now() + 9_000;
    const consumer = await startConsumer(
      rt,
      topic,
      groupId,
      async (email, context) => {
        seen.push({ id: email.notificationId, attempt: context.attempt });
        if (Date.now() < outageEndsAt)
          throw new InfrastructureUnavailableError('postgresql', 'connect ECONNREFUSED 127.0.0.1:5432');
      },
      // Three attempts would be spent in well under a second by the retry policy; the outage lasts 9 s, longer
      // than the 6 s session: the group must keep the member (heartbeats go on while the partition is paused).
      {
        maxAttempts: 3,
        initialDelayMs: 100,
        sessionTimeoutMs: 6_000,
        outageBackoff: { initialDelayMs: 200, maxDelayMs: 1_600 },
      },
    );
    const memberBefore = await groupMember(groupId);
    await rt.producer.publishAll(topic, [unlucky, next]);

    await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(2), {
      timeoutMs: 60_000,
    });
    // Still the same member of the group: the long pause cost no rebalance.
    expect(await groupMember(groupId)).toBe(memberBefore);
    // The outage spent nothing: every try was attempt 1 on the main topic, nothing was retried or dead-lettered.
    expect(new Set(seen.map((entry) => entry.attempt))).toEqual(new Set([1]));
    expect(seen.filter((entry) => entry.id === unlucky.notificationId).length).toBeGreaterThan(3);
    expect(seen.at(-1)).toEqual({ id: next.notificationId, attempt: 1 });
    expect(await env.messageCount(topic.retryTopic!)).toBe(0);
    expect(await env.messageCount(topic.deadLetterTopic)).toBe(0);
    // Backoff: exponential from 200 ms, capped at 1.6 s; the paused partition is reported meanwhile.
    expect(pauses.length).toBeGreaterThanOrEqual(5);
    expect(pauses.slice(0, 5).map((pause) => pause.delayMs)).toEqual([200, 400, 800, 1_600, 1_600]);
    expect(pauses.every((pause) => pause.dependency === 'postgresql' && pause.topic === topic.name)).toBe(
      true,
    );
    expect(consumer.outagePaused()).toEqual([]);
    expect(consumer.health()).toEqual({ alive: true });
    expect(consumer.statistics()).toMatchObject({ retried: 0, deadLettered: 0 });
  });

  it('reports a consumer that stopped fetching while its partition has lag, and alive again once it fetches', async () => {
    const topic = await emailTopic('stall', 1);
    const rt = runtime();
    const liveness = new ConsumerLivenessCheck(rt);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    await startConsumer(
      rt,
      topic,
      env.uniqueName('group'),
      async () => {
        // The first message hangs (a handler stuck on a dead socket): kafkajs fetches nothing meanwhile.
        if (handled === 0) await gate;
        handled += 1;
      },
      { stallThresholdMs: 2_000 },
    );
    await expect(liveness.check()).resolves.toBeUndefined();
    await rt.producer.publishAll(topic, [testEmail(), testEmail(), testEmail()]);

    await expectEventually(() =>
      expect(liveness.check()).rejects.toThrow(/stalled: no fetch for \d+ s while .* has lag/),
    );
    release();
    await expectEventually(() => expect(handled).toBe(3));
    await expectEventually(() => expect(liveness.check()).resolves.toBeUndefined());
  });

  it('reports a stopped consumer as not alive', async () => {
    const topic = await emailTopic('stopped', 1);
    const rt = runtime();
    const consumer = await startConsumer(rt, topic, env.uniqueName('group'), async () => undefined);
    const liveness = new ConsumerLivenessCheck(rt);
    await expect(liveness.check()).resolves.toBeUndefined();

    await consumer.stop();

    await expect(liveness.check()).rejects.toThrow(/consumer group .* stopped/);
  });

  it('dead-letters a message with its origin and error once the attempts are used up', async () => {
    const topic = await emailTopic('exhausted');
    const email = testEmail();
    const attempts: number[] = [];
    const rt = runtime();
    const deadLetters = await env.read([topic.deadLetterTopic]);
    await startConsumer(
      rt,
      topic,
      env.uniqueName('group'),
      async (_message, context) => {
        attempts.push(context.attempt);
        throw new Error(`still broken on attempt ${context.attempt}`);
      },
      { maxAttempts: 3, initialDelayMs: 100 },
    );
    await rt.producer.publish(topic, email);

    await expectEventually(() => expect(deadLetters).toHaveLength(1));
    expect(attempts).toEqual([1, 2, 3]);
    const [record] = deadLetters;
    expect(record!.key).toBe(email.notificationId);
    expect(EmailContract.parse(record!.value)).toEqual(email);
    expect(record!.headers).toMatchObject({
      [MessagingHeaders.deadLetterReason]: 'retries-exhausted',
      [MessagingHeaders.attempt]: '3',
      [MessagingHeaders.originalTopic]: topic.name,
      [MessagingHeaders.errorClass]: 'Error',
      [MessagingHeaders.errorMessage]: 'still broken on attempt 3',
    });
  });

  it('dead-letters a permanent failure at once, without retries', async () => {
    const topic = await emailTopic('permanent');
    const attempts: number[] = [];
    const rt = runtime();
    const deadLetters = await env.read([topic.deadLetterTopic]);
    await startConsumer(rt, topic, env.uniqueName('group'), async (_message, context) => {
      attempts.push(context.attempt);
      throw new PermanentError('recipient can never be reached');
    });
    await rt.producer.publish(topic, testEmail());

    await expectEventually(() => expect(deadLetters).toHaveLength(1));
    expect(attempts).toEqual([1]);
    expect(deadLetters[0]!.headers[MessagingHeaders.deadLetterReason]).toBe('permanent-failure');
  });

  it.each([
    ['a retry copy', new TransientError('try again later'), 'record-too-large'],
    ['a dead-letter copy', new PermanentError('never deliverable'), 'permanent-failure'],
  ])(
    'dead-letters the message without its value and commits it when %s is too large for its topic',
    async (_case, failure, expectedReason) => {
      // The original fits its topic; its copy, with the retry or dead-letter headers added, does not
      // (max.message.bytes applies per record batch, https://kafka.apache.org/documentation/#topicconfigs_max.message.bytes).
      const topic = env.defineTopic('too-large-copy', EmailContract, keyOf);
      await env.createTopics(topic, 1, { 'max.message.bytes': '2000' });
      const email = testEmail({ body: 'x'.repeat(1_600) });
      const value = EmailContract.serialize(email);
      const groupId = env.uniqueName('group');
      const attempts: number[] = [];
      const rt = runtime();
      const copies = await env.read([topic.retryTopic!, topic.deadLetterTopic]);
      const runner = await startConsumer(rt, topic, groupId, async (_message, context) => {
        attempts.push(context.attempt);
        throw failure;
      });
      await env.produceRaw(topic.name, [{ key: email.notificationId, value }]);

      // Committed: never re-read (before the fix, the refused copy left the offset unresolved, re-read forever).
      await expectEventually(async () => expect(await env.committedCount(groupId, topic.name)).toBe(1), {
        timeoutMs: 30_000,
      });
      await expectEventually(() => expect(copies).toHaveLength(1));
      const [copy] = copies;
      expect(copy!.topic).toBe(topic.deadLetterTopic);
      expect(copy!.key).toBe(email.notificationId);
      expect(copy!.value).toBeUndefined();
      expect(copy!.headers).toMatchObject({
        [MessagingHeaders.deadLetterReason]: expectedReason,
        [MessagingHeaders.valueOmitted]: 'record-too-large',
        [MessagingHeaders.originalValueBytes]: String(Buffer.byteLength(value)),
        [MessagingHeaders.originalTopic]: topic.name,
        [MessagingHeaders.originalOffset]: '0',
      });
      expect(attempts).toEqual([1]);
      expect(runner.statistics()).toMatchObject({ deadLettered: 1, retried: 0 });
    },
  );

  it('dead-letters a poison message and still handles the next one on the partition', async () => {
    const topic = await emailTopic('poison', 1);
    const good = testEmail();
    const handled: string[] = [];
    const deadLetters = await env.read([topic.deadLetterTopic]);
    await env.produceRaw(topic.name, [
      { key: 'poison', value: '{"notificationId": "not-a-uuid", "subject": ' },
      { key: 'wrong-shape', value: JSON.stringify({ ...good, contentType: 'Markdown' }) },
      { key: good.notificationId, value: EmailContract.serialize(good) },
    ]);
    await startConsumer(runtime(), topic, env.uniqueName('group'), async (email) => {
      handled.push(email.notificationId);
    });

    await expectEventually(() => expect(handled).toEqual([good.notificationId]));
    await expectEventually(() => expect(deadLetters).toHaveLength(2));
    const byKey = Object.fromEntries(deadLetters.map((record) => [record.key, record.headers]));
    expect(byKey['poison']).toMatchObject({
      [MessagingHeaders.deadLetterReason]: 'invalid-message',
      [MessagingHeaders.originalTopic]: topic.name,
      [MessagingHeaders.originalOffset]: '0',
    });
    expect(byKey['poison']![MessagingHeaders.errorMessage]).toMatch(/JSON/i);
    expect(byKey['wrong-shape']![MessagingHeaders.errorMessage]).toContain('contentType');
  });

  it('finishes in-flight messages and commits them on graceful shutdown', async () => {
    const topic = await emailTopic('shutdown', 1);
    const groupId = env.uniqueName('group');
    const emails = Array.from({ length: 5 }, () => testEmail());
    const rt = runtime();
    await rt.producer.publishAll(topic, emails);
    const started: string[] = [];
    const finished: string[] = [];
    await startConsumer(rt, topic, groupId, async (email) => {
      started.push(email.notificationId);
      await new Promise((resolve) => setTimeout(resolve, 400));
      finished.push(email.notificationId);
    });
    await expectEventually(() => expect(started.length).toBeGreaterThanOrEqual(2), { intervalMs: 20 });

    await rt.shutdown();

    // Whatever was started was allowed to finish, nothing new was started after the stop, and the committed
    // position covers exactly the finished messages.
    expect(finished).toEqual(started);
    expect(finished.length).toBeLessThan(emails.length);
    expect(await env.committedCount(groupId, topic.name)).toBe(finished.length);
  });

  it('shares partitions between two group members and loses nothing across rebalances', async () => {
    const topic = await emailTopic('rebalance', 4);
    const groupId = env.uniqueName('group');
    const emails = Array.from({ length: 400 }, () => testEmail());
    const handledBy = new Map<string, Set<string>>([
      ['a', new Set()],
      ['b', new Set()],
    ]);
    const handler = (member: string) => async (email: Email) => {
      handledBy.get(member)!.add(email.notificationId);
      await new Promise((resolve) => setTimeout(resolve, 2));
    };
    const producerRuntime = runtime();
    const runtimeA = runtime();
    await startConsumer(runtimeA, topic, groupId, handler('a'));
    await producerRuntime.producer.publishAll(topic, emails.slice(0, 150));
    await expectEventually(() => expect(handledBy.get('a')!.size).toBeGreaterThan(20), { intervalMs: 20 });

    // B joins mid-stream: first rebalance.
    const consumerB = await startConsumer(runtime(), topic, groupId, handler('b'));
    await producerRuntime.producer.publishAll(topic, emails.slice(150, 300));
    await expectEventually(() => expect(handledBy.get('b')!.size).toBeGreaterThan(0), { timeoutMs: 30_000 });

    // A leaves mid-stream: second rebalance; B takes over everything.
    await runtimeA.shutdown();
    await producerRuntime.producer.publishAll(topic, emails.slice(300));

    const all = () => new Set([...handledBy.get('a')!, ...handledBy.get('b')!]);
    await expectEventually(() => expect(all().size).toBe(emails.length), { timeoutMs: 60_000 });
    expect(emails.every((email) => all().has(email.notificationId))).toBe(true);
    expect(handledBy.get('a')!.size).toBeGreaterThan(0);
    expect(handledBy.get('b')!.size).toBeGreaterThan(0);
    expect(consumerB.statistics().deadLettered).toBe(0);
    await expectEventually(async () =>
      expect(await env.committedCount(groupId, topic.name)).toBe(emails.length),
    );
  }, 120_000);
});
