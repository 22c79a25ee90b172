import { Module, type DynamicModule } from '@nestjs/common';
import { consumerGroups, topicCatalog } from '@notifications/contracts';
import { HealthModule } from '@notifications/health';
import {
  ConsumerLivenessCheck,
  KafkaHealthCheck,
  KafkaRuntime,
  type MessagingLogger,
} from '@notifications/messaging';
import { MessagingModule } from '@notifications/messaging/nest';
import {
  createMetricsRegistry,
  ObservabilityModule,
  type ObservabilityModuleOptions,
} from '@notifications/observability';
import { AcsEmailClient } from '../acs/acs-email.client';
import { type EmailSenderConfig } from '../config/email-sender.config';
import { RateLimitController } from '../ops/rate-limit.controller';
import { EmailEventsPublisher } from '../sending/email-events.publisher';
import { EMAIL_QUEUE_OPTIONS, EmailQueueConsumer } from '../sending/email-queue.consumer';
import { EMAIL_SENDING_SETTINGS, EmailSendingService } from '../sending/email-sending.service';
import { HaltedOrders } from '../sending/halted-orders';
import { SendStatistics } from '../sending/send-statistics';
import { SendThrottle } from '../sending/send-throttle';
import { MeteredSendStatistics } from '../stats/send-metrics';
import { StatsController } from '../stats/stats.controller';

export interface EmailSenderModuleOptions {
  readonly config: EmailSenderConfig;
  /** Consumer group id; defaults to `ConsumerGroups.emailSender` (suffixed with KAFKA_TOPIC_SUFFIX). */
  readonly groupId?: string;
  /** The messaging runtime's logger; defaults to Nest's. */
  readonly messagingLogger?: MessagingLogger;
  /** Logger and shutdown hook from `startObservability` (main.ts); tests leave it out (silent pino). */
  readonly observability?: Omit<ObservabilityModuleOptions, 'service' | 'registry'>;
}

/**
 * The whole app: consumes `email.queue` (+ retry), sends through ACS, publishes outcomes; health endpoints,
 * and, on the management listener, `GET|DELETE /stats`, `GET|DELETE /internal/rate-limit`, `GET /status` and
 * `GET /metrics`. Built from a config object so that main.ts, tests and the
 * benchmark share one wiring.
 */
@Module({})
export class EmailSenderModule {
  static forRoot(options: EmailSenderModuleOptions): DynamicModule {
    const { config } = options;
    const topics = topicCatalog(config.kafka.topicSuffix);
    // Every partition of email.queue at once (at least KAFKA_CONSUMER_CONCURRENCY): with 3 of 6 partitions and 16
    // sends at a time the sender waited with a third of the machine idle (root README, Performance, fourth session).
    const partitionConcurrency = Math.min(
      Math.max(config.kafka.consumerConcurrency, config.kafka.topics.partitions),
      config.sending.concurrency,
    );
    const registry = createMetricsRegistry('email-sender');
    const groupId = options.groupId ?? consumerGroups(config.kafka.topicSuffix).emailSender;
    return {
      module: EmailSenderModule,
      imports: [
        MessagingModule.forRoot({
          connection: config.kafka,
          catalog: topics,
          consumer: {
            groupId,
            partitionConcurrency,
            // Enough handlers across the partitions to keep every send slot busy; the throttle bounds the sends.
            perPartitionConcurrency: Math.ceil(config.sending.concurrency / partitionConcurrency),
            sessionTimeoutMs: config.kafka.sessionTimeoutMs,
            maxBytesPerPartition: config.kafka.fetchMaxBytesPerPartition,
            shutdownTimeoutMs: config.kafka.shutdownTimeoutMs,
            retryPolicy: { ...config.sending.retryPolicy, maxRetryAfterMs: config.acs.maxRetryAfterMs },
          },
          producer: { compression: config.kafka.compression, maxBatchBytes: config.kafka.maxRequestBytes },
          healthTopic: topics.emailHealthCheck,
          producesTo: [
            topics.emailSendingAccepted,
            topics.emailStatusUpdated,
            topics.platformServiceUpdated,
            topics.emailWithheld,
            // Not written here but read whole by HaltedOrders: created by whichever of orders and this app starts first.
            topics.ordersHalted,
          ],
          provisionTopics: config.kafka.topics,
          ...(options.messagingLogger ? { logger: options.messagingLogger } : {}),
        }),
        HealthModule.forRoot({ inject: [KafkaHealthCheck], liveness: { inject: [ConsumerLivenessCheck] } }),
        ObservabilityModule.forRoot({
          ...options.observability,
          service: 'email-sender',
          registry,
          management: config.management,
        }),
      ],
      controllers: [EmailQueueConsumer, StatsController, RateLimitController],
      providers: [
        { provide: EMAIL_QUEUE_OPTIONS, useValue: { maxMessageAgeMs: config.sending.maxMessageAgeMs } },
        { provide: AcsEmailClient, useFactory: () => new AcsEmailClient(config.acs) },
        {
          provide: SendThrottle,
          useFactory: () =>
            new SendThrottle({
              concurrency: config.sending.concurrency,
              ratePerMinute: config.sending.ratePerMinute,
              maxHoldMs: config.sending.maxHoldMs,
              maxPauseMs: config.acs.maxRetryAfterMs,
            }),
        },
        { provide: SendStatistics, useFactory: () => new MeteredSendStatistics(registry) },
        {
          provide: EMAIL_SENDING_SETTINGS,
          useValue: {
            defaultRetryAfterMs: config.acs.defaultRetryAfterMs,
            maxAcsOutagePausesPerEmail: config.sending.maxAcsOutagePausesPerEmail,
          },
        },
        {
          // The halted orders, read from orders.halted by a follower of this process's own (apps/orders README, "Halt").
          provide: HaltedOrders,
          useFactory: (runtime: KafkaRuntime) => {
            const follower = runtime.createTopicFollower({
              topic: topics.ordersHalted,
              groupIdPrefix: `${groupId}.halts`,
              onMessage: (halt) => halted.record(halt),
            });
            const halted = new HaltedOrders(follower, { maxMessageAgeMs: config.sending.maxMessageAgeMs });
            return halted;
          },
          inject: [KafkaRuntime],
        },
        EmailEventsPublisher,
        EmailSendingService,
      ],
    };
  }
}
