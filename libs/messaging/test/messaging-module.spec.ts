import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  EmailContract,
  HealthCheckContract,
  type Email,
  type TopicDefinition,
} from '@notifications/contracts';
import { KafkaTestEnvironment, expectEventually } from '@notifications/testing';
import { Kafka, logLevel } from 'kafkajs';
import {
  ConsumerHost,
  KafkaHandler,
  KafkaHealthCheck,
  MessageProducer,
  MessagingModule,
  createKafka,
  silentLogger,
  type MessageContext,
} from '../src';
import { testEmail } from './fixtures/email-messages';

describe(MessagingModule.name, () => {
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
    const admin = new Kafka({ brokers: [...env.connection.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const ours = (await admin.listTopics()).filter(
      (name) => name.startsWith(emailTopic.name) || name.startsWith(healthTopic.name),
    );
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    await admin.disconnect();
    await env.cleanup();
  });

  async function startApp(received: { email: Email; context: MessageContext }[]): Promise<INestApplication> {
    @Injectable()
    class EmailConsumer {
      @KafkaHandler(emailTopic)
      async handle(email: Email, context: MessageContext): Promise<void> {
        received.push({ email, context });
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          connection: env.connection,
          consumer: { groupId: env.uniqueName('group') },
          healthTopic,
          provisionTopics: { partitions: 2, replicationFactor: 1, retentionMs: 3_600_000 },
          logger: silentLogger,
        }),
      ],
      providers: [EmailConsumer],
    }).compile();
    const created = moduleRef.createNestApplication({ logger: false });
    await created.init();
    return created;
  }

  it('provisions the topics, discovers @KafkaHandler methods and delivers validated messages to them', async () => {
    const received: { email: Email; context: MessageContext }[] = [];
    app = await startApp(received);

    const admin = createKafka(env.connection, 'admin', silentLogger).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({
        topics: [emailTopic.name, emailTopic.retryTopic!, emailTopic.deadLetterTopic, healthTopic.name],
      });
      expect(metadata.topics.map((topic) => topic.partitions.length)).toEqual([2, 2, 2, 2]);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: emailTopic.name, configNames: ['retention.ms'] }],
      });
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('3600000');
    } finally {
      await admin.disconnect();
    }

    const email = testEmail();
    await app.get(MessageProducer).publish(emailTopic, email);
    await expectEventually(() => expect(received.map((r) => r.email)).toEqual([email]));
    expect(received[0]!.context).toMatchObject({
      topic: emailTopic.name,
      key: email.notificationId,
      attempt: 1,
    });
    expect(app.get(ConsumerHost).runner?.state).toBe('running');
  });

  it('reports Kafka ready through the health-check producer, and stops the consumer on close', async () => {
    app = await startApp([]);
    const healthMessages = await env.read([healthTopic.name]);

    await expect(app.get(KafkaHealthCheck).check()).resolves.toBeUndefined();
    await expectEventually(() => expect(healthMessages.map((m) => m.value)).toEqual(['test']));

    const runner = app.get(ConsumerHost).runner!;
    await app.close();
    app = undefined;
    expect(runner.state).toBe('stopped');
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
