import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { topicCatalog, type TopicCatalog } from '@notifications/contracts';
import { startKafkaTransport } from '@notifications/messaging/nest';
import { listenWithManagement } from '@notifications/observability';
import { OperatorTestAuth } from '@notifications/testing';
import { configureHttp, StatusPollerModule } from '../../src/app.module';
import { loadStatusPollerConfig, type StatusPollerConfig } from '../../src/config/status-poller.config';
import { checkIntervals } from '../../src/domain/check-schedule';
import { PollingStats } from '../../src/polling/polling-stats';
import { DelayTiers, statusPollerTopicNames } from '../../src/polling/delay-tiers';
import { type TestKafka } from './kafka';

/** A short unique topic suffix for one test (`KAFKA_TOPIC_SUFFIX`). */
export function uniqueSuffix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}

/** Fast schedule for tests: first check after 1 s, then 2 s, 4 s (three delay tiers). */
export const TEST_SCHEDULE_ENV: Record<string, string> = {
  STATUS_CHECK_FIRST_DELAY_MS: '1s',
  STATUS_CHECK_BACKOFF_MULTIPLIER: '2',
  STATUS_CHECK_MAX_INTERVAL_MS: '4s',
  KAFKA_TOPIC_PARTITIONS: '2',
  KAFKA_TOPIC_RETENTION_MS: '1h',
};

/** The run's topics (the catalog under its KAFKA_TOPIC_SUFFIX) and its delay tiers. */
export type PollerTopics = TopicCatalog & { readonly delayTiers: DelayTiers };

export function topicsFor(env: Record<string, string>): PollerTopics {
  const config = loadStatusPollerConfig({ ...process.env, ...env });
  const catalog = topicCatalog(config.kafka.topicSuffix);
  return {
    ...catalog,
    delayTiers: new DelayTiers(catalog.emailSendingAccepted, checkIntervals(config.polling)),
  };
}

/** Every topic the run's poller reads or writes (created up front by `TestKafka.prepareTopics`). */
export function pollerTopicNames(topics: PollerTopics): string[] {
  return statusPollerTopicNames(topics, topics.delayTiers);
}

/** The operator key the app under test trusts on its management listener. */
export const operatorAuth = new OperatorTestAuth();

/** The app in this process on a free port, with its own topics (by suffix) and consumer group. */
export class StatusPollerApp {
  private constructor(
    readonly app: NestExpressApplication,
    readonly config: StatusPollerConfig,
    readonly topics: PollerTopics,
    readonly url: string,
    /** The management listener (`/stats`, `/status`, `/metrics`). */
    readonly managementUrl: string,
  ) {}

  /** With `kafka`, the run's topics are created (and settled) first; see `TestKafka.prepareTopics`. */
  static async start(env: Record<string, string>, kafka?: TestKafka): Promise<StatusPollerApp> {
    const config = loadStatusPollerConfig({
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      ...operatorAuth.env,
      ...env,
    });
    if (kafka) await kafka.prepareTopics(pollerTopicNames(topicsFor(env)), config.kafka.topics.partitions);
    const app = await NestFactory.create<NestExpressApplication>(StatusPollerModule.forRoot(config), {
      bodyParser: false,
      logger: ['error', 'warn'],
    });
    configureHttp(app, config, { shutdownHooks: false });
    await startKafkaTransport(app);
    const { url, managementUrl } = await listenWithManagement(app, { port: 0, host: '127.0.0.1' });
    if (managementUrl === undefined) throw new Error('status-poller has no management listener');
    return new StatusPollerApp(app, config, topicsFor(env), url, managementUrl);
  }

  stats(): ReturnType<PollingStats['snapshot']> {
    return this.app.get(PollingStats).snapshot();
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
