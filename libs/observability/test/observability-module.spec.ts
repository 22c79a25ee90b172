import { Writable } from 'node:stream';
import { Logger, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  EmailContract,
  HealthCheckContract,
  Topics,
  type Email,
  type TopicDefinition,
} from '@notifications/contracts';
import {
  KafkaController,
  MessagingModule,
  startKafkaTransport,
  type KafkaContext,
  type KafkaHandlerExtras,
} from '@notifications/messaging/nest';
import { OPERATOR_SCOPE } from '@notifications/config';
import { OperatorTestAuth, expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import {
  ObservabilityModule,
  createLogger,
  listenWithManagement,
  createNestLogger,
  parsePrometheusText,
  sampleValue,
  type ServiceStatus,
} from '../src';

type LogLine = Record<string, unknown>;

function captureLogs(): { lines: () => LogLine[]; destination: Writable } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = (): LogLine[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  return { lines, destination };
}

describe(ObservabilityModule.name, () => {
  const env = new KafkaTestEnvironment('observability');
  const emailTopic: TopicDefinition<Email> = env.defineTopic(
    'emails',
    EmailContract,
    (email) => email.notificationId,
  );
  const healthTopic = env.defineTopic('health', HealthCheckContract, () => undefined);
  const logs = captureLogs();
  const groupId = env.uniqueName('group');
  let app: INestApplication;
  let url: string;
  /** The management listener: /metrics and /status are served there only. */
  let managementUrl: string;
  const operatorAuth = new OperatorTestAuth();

  @KafkaController()
  class EmailConsumer {
    private readonly logger = new Logger(EmailConsumer.name);

    @EventPattern('emails', {
      retryPolicy: { maxAttempts: 2, initialDelayMs: 50, multiplier: 1, maxDelayMs: 50 },
    } satisfies KafkaHandlerExtras)
    async handle(@Payload() email: Email, @Ctx() context: KafkaContext): Promise<void> {
      this.logger.log(`Sending email ${email.subject}`);
      if (email.subject === 'fail' && context.attempt === 1) throw new Error('ACS unavailable');
    }
  }

  beforeAll(async () => {
    const logger = createLogger({ service: 'obs-test', level: 'debug', destination: logs.destination });
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          connection: env.connection,
          catalog: Topics,
          topics: { emails: emailTopic as TopicDefinition<unknown> },
          consumer: { groupId, sessionTimeoutMs: 10_000 },
          healthTopic,
          provisionTopics: { partitions: 1, replicationFactor: 1, retentionMs: 3_600_000 },
        }),
        ObservabilityModule.forRoot({
          service: 'obs-test',
          logger,
          management: {
            listener: { port: 0, host: '127.0.0.1' },
            operatorAuth: {
              key: { kind: 'pem', publicKeyPem: operatorAuth.publicKeyPem },
              requiredScope: OPERATOR_SCOPE,
              clockToleranceSeconds: 30,
            },
          },
        }),
      ],
      controllers: [EmailConsumer],
    }).compile();
    app = moduleRef.createNestApplication({ logger: createNestLogger(logger) });
    await startKafkaTransport(app);
    const urls = await listenWithManagement(app, { port: 0, host: '127.0.0.1' });
    url = urls.url;
    managementUrl = urls.managementUrl ?? '';
  }, 60_000);

  afterAll(async () => {
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

  const email = (subject: string): Email => ({
    notificationId: randomUUID(),
    subject,
    body: 'Hello',
    fromAddress: 'noreply@altinn.cloud',
    toAddress: 'someone@example.com',
    contentType: 'Plain',
  });

  it("writes a handler's log lines with the message's topic, partition, offset, attempt and notificationId", async () => {
    const ok = email('ok');
    const failing = email('fail');
    await env.produceRaw(emailTopic.name, [
      { key: ok.notificationId, value: EmailContract.serialize(ok) },
      { key: failing.notificationId, value: EmailContract.serialize(failing) },
    ]);

    const handlerLines = await expectEventually(() => {
      const found = logs.lines().filter((line) => String(line['msg']).startsWith('Sending email'));
      expect(found).toHaveLength(3);
      return found;
    });
    expect(handlerLines).toEqual([
      expect.objectContaining({
        service: 'obs-test',
        level: 'info',
        context: 'EmailConsumer',
        msg: 'Sending email ok',
        topic: emailTopic.name,
        partition: 0,
        offset: '0',
        attempt: 1,
        consumerGroup: groupId,
        notificationId: ok.notificationId,
      }),
      expect.objectContaining({
        msg: 'Sending email fail',
        topic: emailTopic.name,
        offset: '1',
        attempt: 1,
        notificationId: failing.notificationId,
      }),
      expect.objectContaining({
        msg: 'Sending email fail',
        topic: emailTopic.retryTopic,
        offset: '0',
        attempt: 2,
        notificationId: failing.notificationId,
      }),
    ]);
    // The runtime's own line about the retry carries the same context, as JSON fields.
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'Handler failed; scheduled a retry',
        topic: emailTopic.name,
        offset: '1',
        nextAttempt: 2,
        notificationId: failing.notificationId,
      }),
    );
    // Lines outside any message carry none of it.
    const startup = logs.lines().find((line) => line['msg'] === 'Consumer started');
    expect(startup).toBeDefined();
    expect(startup).not.toHaveProperty('offset');
  });

  it('serves /metrics with the process metrics and per-topic consumer series, and /status with the counters', async () => {
    const samples = await expectEventually(async () => {
      const response = await fetch(`${managementUrl}/metrics`);
      expect(response.status).toBe(200);
      const parsed = parsePrometheusText(await response.text());
      expect(sampleValue(parsed, 'notifications_messages_consumed_total', { topic: emailTopic.name })).toBe(
        2,
      );
      return parsed;
    });
    expect(sampleValue(samples, 'notifications_messages_retried_total', { topic: emailTopic.name })).toBe(1);
    expect(
      sampleValue(samples, 'notifications_messages_produced_total', {
        topic: emailTopic.retryTopic as string,
      }),
    ).toBe(1);
    expect(samples.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
    expect(
      samples.filter((s) => s.name === 'notifications_consumer_lag').map((s) => s.labels['topic']),
    ).toEqual(expect.arrayContaining([emailTopic.name]));

    const response = await fetch(`${managementUrl}/status`);
    const status = (await response.json()) as ServiceStatus;
    expect(status).toMatchObject({
      service: 'obs-test',
      received: 3,
      delivered: 2,
      retried: 1,
      deadLettered: 0,
      inProcess: 0,
      lost: 0,
      consumers: [expect.objectContaining({ groupId, state: 'running' })],
      recentErrors: [
        expect.objectContaining({ topic: emailTopic.name, offset: '1', error: 'ACS unavailable' }),
      ],
    });
  });

  it('serves /metrics and /status on the management listener only', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect((await fetch(`${url}/status`)).status).toBe(404);
    expect(new URL(managementUrl).hostname).toBe('127.0.0.1');
    expect((await fetch(`${managementUrl}/metrics`)).status).toBe(200);
  });

  it('logs HTTP requests (not scrapes or probes) with a request id and no headers', async () => {
    await fetch(`${url}/nowhere?accesskey=secret-key-value`, {
      headers: { authorization: 'Bearer abc.def.ghi' },
    });

    const line = await expectEventually(() => {
      const found = logs
        .lines()
        .find((l) => String((l['req'] as { url?: string } | undefined)?.url).startsWith('/nowhere'));
      expect(found).toBeDefined();
      return found as LogLine;
    });
    expect(line).toMatchObject({
      req: { method: 'GET', url: '/nowhere?accesskey=***' },
      res: { statusCode: 404 },
    });
    expect(JSON.stringify(line)).not.toContain('abc.def.ghi');
    expect(
      logs.lines().some((l) => String((l['req'] as { url?: string } | undefined)?.url) === '/metrics'),
    ).toBe(false);
  });
});
