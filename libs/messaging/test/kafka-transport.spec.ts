import { Injectable, type INestApplication, type OnApplicationShutdown } from '@nestjs/common';
import { Controller, Get, type BeforeApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  EmailContract,
  HealthCheckContract,
  Topics,
  type Email,
  type TopicDefinition,
} from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import { Kafka, logLevel } from 'kafkajs';
import {
  KafkaHealthCheck,
  KafkaRuntime,
  MessageProducer,
  MessagingHeaders,
  PermanentError,
  TransientError,
  createKafka,
  silentLogger,
  type ConsumerRunnerOptions,
} from '../src';
import {
  KafkaContext,
  KafkaController,
  KafkaTransport,
  MessagingModule,
  type KafkaBatchContext,
  type KafkaBatchMessage,
  type KafkaHandlerExtras,
  type SeparateConsumer,
} from '../src/nest';
import { testEmail } from './fixtures/email-messages';

/** What the test's consumer controller does with each email, by notification id. */
type Behaviour = (email: Email, context: KafkaContext) => Promise<void>;

describe(KafkaTransport.name, () => {
  let env: KafkaTestEnvironment;
  let app: INestApplication | undefined;
  let emailTopic: TopicDefinition<Email>;
  let healthTopic: TopicDefinition<string>;

  beforeEach(() => {
    env = new KafkaTestEnvironment('nest');
    emailTopic = env.defineTopic('emails', EmailContract, (email) => email.notificationId);
    healthTopic = env.defineTopic('health', HealthCheckContract, () => undefined);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    const admin = new Kafka({ brokers: [...env.connection.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const ours = (await admin.listTopics()).filter(
      (name) => name.startsWith(emailTopic.name) || name.startsWith(healthTopic.name),
    );
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    await admin.disconnect();
    await env.cleanup();
  });

  async function startApp(
    behaviour: Behaviour,
    extra: {
      providers?: (new (...args: never[]) => unknown)[];
      controllers?: (new (...args: never[]) => unknown)[];
    } = {},
  ): Promise<INestApplication> {
    @KafkaController()
    class EmailConsumer {
      @EventPattern('emails')
      async handle(@Payload() email: Email, @Ctx() context: KafkaContext): Promise<void> {
        await behaviour(email, context);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          connection: env.connection,
          catalog: Topics,
          consumer: {
            groupId: env.uniqueName('group'),
            retryPolicy: { maxAttempts: 3, initialDelayMs: 50, multiplier: 1, maxDelayMs: 50 },
            shutdownTimeoutMs: 20_000,
          },
          topics: { emails: emailTopic as TopicDefinition<unknown> },
          healthTopic,
          provisionTopics: { partitions: 2, replicationFactor: 1, retentionMs: 3_600_000 },
          logger: silentLogger,
        }),
      ],
      controllers: [EmailConsumer, ...(extra.controllers ?? [])],
      providers: [...(extra.providers ?? [])],
    }).compile();
    const created = moduleRef.createNestApplication({ logger: false });
    created.connectMicroservice({ strategy: KafkaTransport.fromApp(created) }, { inheritAppConfig: true });
    await created.init();
    await created.startAllMicroservices();
    return created;
  }

  /**
   * An app of these controllers consuming these topic keys (each topic provisioned with one partition), connected
   * and initialised: the caller starts consuming (`app.startAllMicroservices()`).
   */
  async function initTopicsApp(options: {
    topics: Record<string, TopicDefinition<Email>>;
    controllers: (new (...args: never[]) => unknown)[];
    consumer?: Partial<ConsumerRunnerOptions>;
    separateConsumers?: SeparateConsumer[];
  }): Promise<{ app: INestApplication; transport: KafkaTransport }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          connection: env.connection,
          catalog: Topics,
          consumer: { groupId: env.uniqueName('group'), ...options.consumer },
          ...(options.separateConsumers ? { separateConsumers: options.separateConsumers } : {}),
          topics: options.topics as Record<string, TopicDefinition<unknown>>,
          healthTopic,
          provisionTopics: { partitions: 1, replicationFactor: 1, retentionMs: 3_600_000 },
          logger: silentLogger,
        }),
      ],
      controllers: options.controllers,
    }).compile();
    const created = moduleRef.createNestApplication({ logger: false });
    const transport = KafkaTransport.fromApp(created);
    created.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
    await created.init();
    return { app: created, transport };
  }

  /** Deletes the topics a case defined for itself, with their retry and dead-letter topics. */
  async function deleteTopics(...topics: TopicDefinition<Email>[]): Promise<void> {
    const admin = new Kafka({ brokers: [...env.connection.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: topics.flatMap((topic) => [topic.name, topic.retryTopic!, topic.deadLetterTopic]),
    });
    await admin.disconnect();
  }

  it('provisions the topics and delivers validated messages to @EventPattern methods with a KafkaContext', async () => {
    const received: { email: Email; context: KafkaContext }[] = [];
    app = await startApp(async (email, context) => {
      received.push({ email, context });
    });

    const admin = createKafka(env.connection, 'admin', silentLogger).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({
        topics: [emailTopic.name, emailTopic.retryTopic!, emailTopic.deadLetterTopic, healthTopic.name],
      });
      expect(metadata.topics.map((topic) => topic.partitions.length)).toEqual([2, 2, 2, 2]);
    } finally {
      await admin.disconnect();
    }

    const email = testEmail();
    await app.get(MessageProducer).publish(emailTopic, email);
    await expectEventually(() => expect(received.map((r) => r.email)).toEqual([email]));
    const context = received[0]!.context;
    expect(context).toBeInstanceOf(KafkaContext);
    expect(context).toMatchObject({
      topic: emailTopic.name,
      receivedFrom: emailTopic.name,
      key: email.notificationId,
      attempt: 1,
      maxAttempts: 3,
      isLastAttempt: false,
    });
    expect(app.get(KafkaRuntime).consumerRunners[0]?.state).toBe('running');
  });

  it('dead-letters a PermanentError at once, retries a TransientError, and dead-letters an invalid message unhandled', async () => {
    const permanent = testEmail();
    const transient = testEmail();
    const attempts = new Map<string, number[]>();
    app = await startApp(async (email, context) => {
      attempts.set(email.notificationId, [...(attempts.get(email.notificationId) ?? []), context.attempt]);
      if (email.notificationId === permanent.notificationId) throw new PermanentError('refused for good');
      if (email.notificationId === transient.notificationId && context.attempt < 2)
        throw new TransientError('try again');
    });
    const deadLetters = await env.read([emailTopic.deadLetterTopic]);
    const retries = await env.read([emailTopic.retryTopic!]);

    const producer = app.get(MessageProducer);
    await producer.publish(emailTopic, permanent);
    await producer.publish(emailTopic, transient);
    await producer.publishRaw(emailTopic.name, { key: 'poison', value: '{"not":"an email"}' });

    await expectEventually(() => {
      expect(attempts.get(transient.notificationId)).toEqual([1, 2]);
      expect(deadLetters.map((record) => record.key).sort()).toEqual(
        [permanent.notificationId, 'poison'].sort(),
      );
    });
    expect(attempts.get(permanent.notificationId)).toEqual([1]);
    expect(retries.map((record) => record.key)).toEqual([transient.notificationId]);
    const reasons = Object.fromEntries(
      deadLetters.map((record) => [record.key, record.headers[MessagingHeaders.deadLetterReason]]),
    );
    expect(reasons).toEqual({ [permanent.notificationId]: 'permanent-failure', poison: 'invalid-message' });
    expect(
      deadLetters.find((r) => r.key === permanent.notificationId)?.headers[MessagingHeaders.errorClass],
    ).toBe('PermanentError');
  });

  it('closes in draining order: HTTP and the pre-shutdown hooks first, then the in-flight handler finishes, then onApplicationShutdown', async () => {
    const events: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => undefined;
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });

    /** Stands in for TypeORM's DataSource, which @nestjs/typeorm destroys in onApplicationShutdown. */
    @Injectable()
    class FakeDataSource implements OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown {
      private destroyed = false;
      query(): string {
        if (this.destroyed) throw new Error('data source already destroyed');
        return 'row';
      }
      onModuleDestroy(): void {
        events.push('onModuleDestroy');
      }
      beforeApplicationShutdown(): void {
        events.push('beforeApplicationShutdown');
      }
      onApplicationShutdown(): void {
        this.destroyed = true;
        events.push('data source destroyed');
      }
    }

    @Controller('health')
    class ReadyController {
      @Get('ready')
      ready(): string {
        return 'ok';
      }
    }

    const resolved: { dataSource?: FakeDataSource } = {};
    app = await startApp(
      async () => {
        started();
        await gate;
        events.push(`handler finished with ${resolved.dataSource!.query()}`);
      },
      { providers: [FakeDataSource], controllers: [ReadyController] },
    );
    resolved.dataSource = app.get(FakeDataSource);
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/health/ready`;
    expect((await fetch(url)).status).toBe(200);
    const deadLetters = await env.read([emailTopic.deadLetterTopic, emailTopic.retryTopic!]);

    const email = testEmail();
    await app.get(MessageProducer).publish(emailTopic, email);
    await handlerStarted;
    const runner = app.get(KafkaRuntime).consumerRunners[0]!;
    const closing = app.close();
    app = undefined;
    // Readiness is unreachable (the HTTP server closed) while the handler is still in flight.
    await expectEventually(async () => {
      await expect(fetch(url)).rejects.toThrow();
    });
    events.push('readiness unreachable');
    expect(runner.state).toBe('stopping');
    release();
    await closing;

    expect(events).toEqual([
      'onModuleDestroy',
      'beforeApplicationShutdown',
      'readiness unreachable',
      'handler finished with row',
      'data source destroyed',
    ]);
    expect(runner.state).toBe('stopped');
    expect(deadLetters).toEqual([]);
    // Committed past: the drained message is not read again by the group.
    expect(await env.committedCount(runner.groupId, emailTopic.name)).toBe(1);
  });

  it('hands a fetched batch to a batch @EventPattern method and falls back to the per-message one when it throws', async () => {
    const batches: number[] = [];
    const single: string[] = [];
    @KafkaController()
    class BatchConsumer {
      @EventPattern('batched')
      async one(@Payload() email: Email): Promise<void> {
        single.push(email.notificationId);
      }

      @EventPattern('batched', { batch: true, maxBatchSize: 10 } satisfies KafkaHandlerExtras)
      async many(
        @Payload() messages: KafkaBatchMessage<Email>[],
        @Ctx() context: KafkaBatchContext,
      ): Promise<void> {
        batches.push(context.size);
        if (messages.some(({ message }) => message.subject === 'fail the batch'))
          throw new Error('batch failed');
      }
    }
    const batched = env.defineTopic('batched', EmailContract, (email) => email.notificationId);
    ({ app } = await initTopicsApp({ topics: { batched }, controllers: [BatchConsumer] }));
    await app.startAllMicroservices();

    const producer = app.get(MessageProducer);
    await producer.publishAll(batched, [testEmail(), testEmail()]);
    await expectEventually(() => expect(batches.reduce((a, b) => a + b, 0)).toBe(2));
    expect(single).toEqual([]);
    const failing = { ...testEmail(), subject: 'fail the batch' };
    await producer.publish(batched, failing);
    await expectEventually(() => expect(single).toEqual([failing.notificationId]));
    await deleteTopics(batched);
  });
  it('reads the topic keys of a separate consumer in their own group, so a slow handler there holds no other topic', async () => {
    let releaseSlow: () => void = () => undefined;
    const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
    const slowStarted: string[] = [];
    const slowDone: string[] = [];
    const quick: string[] = [];
    @KafkaController()
    class TwoTopicConsumer {
      @EventPattern('slow')
      async slow(@Payload() email: Email): Promise<void> {
        slowStarted.push(email.notificationId);
        await slowReleased;
        slowDone.push(email.notificationId);
      }

      @EventPattern('quick')
      async quick(@Payload() email: Email): Promise<void> {
        quick.push(email.notificationId);
      }
    }
    const slowTopic = env.defineTopic('slow', EmailContract, (email) => email.notificationId);
    const quickTopic = env.defineTopic('quick', EmailContract, (email) => email.notificationId);
    const mainGroup = env.uniqueName('group');
    const slowGroup = env.uniqueName('slow-group');
    const started = await initTopicsApp({
      topics: { slow: slowTopic, quick: quickTopic },
      controllers: [TwoTopicConsumer],
      consumer: { groupId: mainGroup, maxWaitTimeMs: 100 },
      separateConsumers: [{ groupId: slowGroup, topicKeys: ['slow'] }],
    });
    app = started.app;
    await app.startAllMicroservices();
    expect(started.transport.consumers.map((runner) => runner.groupId)).toEqual([mainGroup, slowGroup]);

    const producer = app.get(MessageProducer);
    const slowEmail = testEmail();
    try {
      await producer.publish(slowTopic, slowEmail);
      await expectEventually(() => expect(slowStarted).toEqual([slowEmail.notificationId]));
      // Published while the slow handler still runs: handled by the main consumer's next fetch all the same.
      const quickEmails = [testEmail(), testEmail()];
      for (const email of quickEmails) await producer.publish(quickTopic, email);
      await expectEventually(() => expect(quick).toEqual(quickEmails.map((email) => email.notificationId)));
      expect(slowDone).toEqual([]);
    } finally {
      // Also when the expectations fail, so that closing the app does not wait for the handler.
      releaseSlow();
    }
    await expectEventually(() => expect(slowDone).toEqual([slowEmail.notificationId]));
    await deleteTopics(slowTopic, quickTopic);
  });

  it('refuses a separate consumer for a topic key no @EventPattern handles, before it creates anything', async () => {
    const handled: string[] = [];
    @KafkaController()
    class PresentConsumer {
      @EventPattern('present')
      async handle(@Payload() email: Email): Promise<void> {
        handled.push(email.notificationId);
      }
    }
    const present = env.defineTopic('present', EmailContract, (email) => email.notificationId);
    const nowhere = env.defineTopic('nowhere', EmailContract, (email) => email.notificationId);
    ({ app } = await initTopicsApp({
      topics: { present, nowhere },
      controllers: [PresentConsumer],
      separateConsumers: [{ groupId: env.uniqueName('other'), topicKeys: ['nowhere'] }],
    }));
    await expect(app.startAllMicroservices()).rejects.toThrow(
      /separate consumer .*: no @EventPattern\(nowhere\)/,
    );
    expect(app.get(KafkaRuntime).consumerRunners).toEqual([]);
    expect(handled).toEqual([]);
    // The handled topic would have been provisioned first had the check come after provisioning.
    const admin = createKafka(env.connection, 'admin', silentLogger).admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(present.name);
    } finally {
      await admin.disconnect();
    }
  });

  it('does not handle a message of a gated main topic (a delay topic) before its x-due-at', async () => {
    const handledAt = new Map<string, number>();
    @KafkaController()
    class DelayConsumer {
      @EventPattern('delayed', { gatedByDueAt: true } satisfies KafkaHandlerExtras)
      async handle(@Payload() email: Email): Promise<void> {
        handledAt.set(email.notificationId, Date.now());
      }
    }
    const delayed = env.defineTopic('delayed', EmailContract, (email) => email.notificationId);
    ({ app } = await initTopicsApp({
      topics: { delayed },
      controllers: [DelayConsumer],
      consumer: { maxWaitTimeMs: 100 },
    }));
    await app.startAllMicroservices();

    const late = testEmail();
    const now = testEmail();
    const dueAt = Date.now() + 2_000;
    await app
      .get(MessageProducer)
      .publish(delayed, late, { headers: { [MessagingHeaders.dueAt]: String(dueAt) } });
    await app.get(MessageProducer).publish(delayed, now);
    await expectEventually(() => expect(handledAt.has(late.notificationId)).toBe(true), {
      timeoutMs: 10_000,
    });
    expect(handledAt.get(late.notificationId)).toBeGreaterThanOrEqual(dueAt);
    // Same partition, behind the gated head: not handled before it either (a delay topic is read in order).
    expect(handledAt.get(now.notificationId)).toBeGreaterThanOrEqual(dueAt);
    await deleteTopics(delayed);
  });
});

describe(KafkaHealthCheck.name, () => {
  it('fails within its timeout when no broker answers, and caches the failure briefly', async () => {
    const unreachable = createKafka(
      { brokers: ['127.0.0.1:1'], clientId: 'unreachable', connectionTimeoutMs: 200 },
      'producer',
      silentLogger,
    );
    const producer = new MessageProducer(unreachable, silentLogger);
    const topic = new KafkaTestEnvironment('health').defineTopic(
      'health',
      HealthCheckContract,
      () => undefined,
    );
    const check = new KafkaHealthCheck(producer, topic, { timeoutMs: 500, failureCacheMs: 60_000 });

    const started = Date.now();
    await expect(check.check()).rejects.toThrow(/within 500 ms|ECONNREFUSED|Connection/);
    expect(Date.now() - started).toBeLessThan(2_000);

    const again = Date.now();
    await expect(check.check()).rejects.toThrow();
    expect(Date.now() - again).toBeLessThan(50);
    await producer.disconnect(0);
  });
});
