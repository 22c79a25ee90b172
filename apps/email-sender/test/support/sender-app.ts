import { randomUUID } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { topicCatalog, type Email, type TopicCatalog } from '@notifications/contracts';
import { silentLogger } from '@notifications/messaging';
import { startKafkaTransport } from '@notifications/messaging/nest';
import { listenWithManagement } from '@notifications/observability';
import { OperatorTestAuth } from '@notifications/testing';
import { testKafkaConnection, type KafkaTestEnvironment } from '@notifications/messaging/testing';
import { Kafka, logLevel } from 'kafkajs';
import { EmailSenderModule } from '../../src/app/email-sender.module';
import { loadEmailSenderConfig, type EmailSenderConfig } from '../../src/config/email-sender.config';

/** This test's topics: the real catalog under a throw-away topic suffix (KAFKA_TOPIC_SUFFIX). */
export type SenderTopics = TopicCatalog & { readonly suffix: string };

function suffixTag(env: KafkaTestEnvironment): string {
  return `t-${env.prefix.replace(/[^A-Za-z0-9_-]/g, '-')}-`;
}

/** A topic suffix no other test uses (its topics and group are removed by `deleteTestArtifacts`). */
export function uniqueTopicSuffix(env: KafkaTestEnvironment, label: string): string {
  return `${suffixTag(env)}${label}-${randomUUID().slice(0, 8)}`;
}

/** The real topic definitions (contracts, keys, retry and dead-letter topics) under the suffix. */
export function senderTopics(suffix: string): SenderTopics {
  return { ...topicCatalog(suffix), suffix };
}

/** The operator key the sender under test trusts on its management listener (`testSenderEnv`). */
export const operatorAuth = new OperatorTestAuth();

/**
 * Environment for the sender in tests: the test broker, small topics, short timeouts and retry delays so that
 * retry and give-up paths finish in seconds.
 */
export function testSenderEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: testKafkaConnection().brokers.join(','),
    KAFKA_CLIENT_ID: 'email-sender-test',
    KAFKA_TOPIC_PARTITIONS: '2',
    KAFKA_TOPIC_RETENTION_MS: '1h',
    KAFKA_SESSION_TIMEOUT_MS: '10s',
    KAFKA_SHUTDOWN_TIMEOUT_MS: '5s',
    PORT: '0',
    HOST: '127.0.0.1',
    ACS_REQUEST_TIMEOUT_MS: '2s',
    ACS_MAX_RETRIES: '2',
    ACS_RETRY_DELAY_MS: '100ms',
    ACS_MAX_RETRY_DELAY_MS: '400ms',
    EMAIL_SEND_CONCURRENCY: '8',
    EMAIL_MAX_HOLD_MS: '5s',
    EMAIL_RETRY_MAX_ATTEMPTS: '3',
    EMAIL_RETRY_INITIAL_DELAY_MS: '300ms',
    EMAIL_RETRY_MULTIPLIER: '2',
    EMAIL_RETRY_MAX_DELAY_MS: '2s',
    ...operatorAuth.env,
    ...overrides,
  };
}

export interface RunningSender {
  readonly app: INestApplication;
  readonly url: string;
  /** The management listener (`/stats`, `/internal/rate-limit`, `/status`, `/metrics`). */
  readonly managementUrl: string;
  readonly config: EmailSenderConfig;
  close(): Promise<void>;
}

/** Starts the app in this process, exactly as main.ts wires it, on the given topics and consumer group. */
export async function startSender(options: {
  readonly env: Record<string, string>;
  readonly topics: SenderTopics;
  /** Use `env.uniqueName('group')` so that deleteTestArtifacts removes it afterwards. */
  readonly groupId: string;
}): Promise<RunningSender> {
  const config = loadEmailSenderConfig({ ...options.env, KAFKA_TOPIC_SUFFIX: options.topics.suffix });
  const app = await NestFactory.create(
    EmailSenderModule.forRoot({
      config,
      groupId: options.groupId,
      messagingLogger: silentLogger,
    }),
    { logger: process.env['TEST_LOGS'] ? undefined : false },
  );
  app.enableShutdownHooks();
  await startKafkaTransport(app);
  const { url, managementUrl } = await listenWithManagement(app, config.http);
  if (managementUrl === undefined) throw new Error('email-sender has no management listener');
  return { app, url, managementUrl, config, close: () => app.close() };
}

/** Deletes the topics and consumer groups this test run created (all named with the environment's prefix). */
export async function deleteTestArtifacts(env: KafkaTestEnvironment): Promise<void> {
  const admin = new Kafka({ brokers: [...env.connection.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const prefix = `altinn.notifications.test.${env.prefix}.`;
    const suffixed = `.${suffixTag(env)}`;
    const topics = (await admin.listTopics()).filter(
      (name) => name.startsWith(prefix) || name.includes(suffixed),
    );
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((id) => id.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

export function testEmail(overrides: Partial<Email> = {}): Email {
  const notificationId = randomUUID();
  return {
    notificationId,
    subject: `Subject ${notificationId.slice(0, 8)}`,
    body: 'Hello from the email-sender integration tests',
    fromAddress: 'noreply@altinn.cloud',
    toAddress: `${notificationId.slice(0, 8)}@example.com`,
    contentType: 'Plain',
    ...overrides,
  };
}
