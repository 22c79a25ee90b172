import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { consumerGroups, topicCatalog, type TopicDefinition } from '@notifications/contracts';
import { DatabaseReadinessCheck, databaseModule } from '@notifications/database';
import { HealthModule } from '@notifications/health';
import { ConsumerLivenessCheck } from '@notifications/messaging';
import { MessagingModule } from '@notifications/messaging/nest';
import {
  createMetricsRegistry,
  defaultCorrelationFields,
  ObservabilityModule,
  type ObservabilityModuleOptions,
} from '@notifications/observability';
import { JwtAuthGuard } from '../auth/auth.guard';
import { JwtVerifier } from '../auth/jwt-verifier';
import { CONTACT_POINT_SERVICE, ORDERS_CONFIG } from '../common/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { type ContactPointService } from '../contact-points/contact-point.service';
import { HttpContactPointClient } from '../contact-points/http-contact-point.client';
import { LocalContactPointRepository } from '../contact-points/local-contact-point.repository';
import { ordersEntities } from '../database/entities';
import { ordersMigrations } from '../database/migrations';
import { UnitOfWork } from '../database/unit-of-work';
import { EmailNotificationRepository } from '../notifications/email-notification.repository';
import { EmailPublisherService } from '../notifications/email-publisher.service';
import { EmailStatusConsumer } from '../notifications/email-status.consumer';
import { EmailStatusService } from '../notifications/email-status.service';
import { OpsController } from '../ops/ops.controller';
import { OrdersMetrics } from '../ops/orders.metrics';
import { StatusController } from '../ops/status.controller';
import { TriggerController } from '../ops/trigger.controller';
import { OrderRepository } from '../orders/order.repository';
import { OrdersController } from '../orders/orders.controller';
import { OrdersService } from '../orders/orders.service';
import { AddressPolicy } from '../outbound/address-policy';
import { OutboundHttpClient } from '../outbound/outbound-http.client';
import { OutboxRepository } from '../outbox/outbox.repository';
import { OutboxRelay } from '../outbox/outbox.relay';
import { PastDueConsumer } from '../processing/past-due.consumer';
import { PastDueService } from '../processing/past-due.service';
import { RecipientResolver } from '../processing/recipient-resolver.service';
import { SendConditionClient } from '../processing/send-condition.client';
import { RateLimitRepository } from '../rate-limit/rate-limit.repository';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { ServiceUpdateConsumer } from '../rate-limit/service-update.consumer';
import { OrdersScheduler } from '../scheduler/orders.scheduler';
import { SweeperService } from '../scheduler/sweeper.service';

export interface OrdersModuleOptions {
  readonly config: OrdersConfig;
  /** Verifies bearer tokens; built (and its key loaded) before the module, so a bad key fails start-up. */
  readonly verifier: JwtVerifier;
  /** Default: `ConsumerGroups.orders` (suffixed with KAFKA_TOPIC_SUFFIX). Tests pass their own group. */
  readonly consumerGroupId?: string;
  /** Default: per `CONTACT_POINTS_SOURCE` (local table or the HTTP API). */
  readonly contactPoints?: ContactPointService;
  /** Logger and shutdown hook from `startObservability` (main.ts); tests leave it out (silent pino). */
  readonly observability?: Omit<ObservabilityModuleOptions, 'service' | 'registry'>;
}

/** The outbound-request guard: one instance per app, its allow-list from the configuration. */
function outboundClient(config: OrdersConfig): OutboundHttpClient {
  return new OutboundHttpClient(new AddressPolicy(config.outbound.allowList));
}

function contactPointProvider(options: OrdersModuleOptions): Provider {
  if (options.contactPoints !== undefined) {
    return { provide: CONTACT_POINT_SERVICE, useValue: options.contactPoints };
  }
  const settings = options.config.contactPoints;
  if (settings.source === 'http') {
    return {
      provide: CONTACT_POINT_SERVICE,
      useValue: new HttpContactPointClient({
        // Validated by the configuration: required when the source is http.
        baseUrl: settings.baseUrl ?? '',
        timeoutMs: settings.timeoutMs,
        batchSize: settings.batchSize,
        maxResponseBytes: settings.maxResponseBytes,
        outbound: outboundClient(options.config),
      }),
    };
  }
  return { provide: CONTACT_POINT_SERVICE, useExisting: LocalContactPointRepository };
}

/** Log context of a consumed message: `orders.pastdue` carries the order as `id`, the others name their ids. */
function ordersCorrelationFields(topic: string, message: unknown): Record<string, string> | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const fields = defaultCorrelationFields(topic, message) ?? {};
  const id = (message as { id?: unknown }).id;
  if (fields['orderId'] === undefined && typeof id === 'string' && /pastdue/.test(topic))
    fields['orderId'] = id;
  return Object.keys(fields).length > 0 ? fields : undefined;
}

@Module({})
export class OrdersModule {
  static register(options: OrdersModuleOptions): DynamicModule {
    const { config } = options;
    const topics = topicCatalog(config.kafka.topicSuffix);
    const { kafka, consumer } = config;
    return {
      module: OrdersModule,
      imports: [
        databaseModule({
          ...config.db,
          entities: ordersEntities,
          migrations: ordersMigrations,
          applicationName: 'orders',
        }),
        MessagingModule.forRoot({
          connection: {
            brokers: config.kafka.brokers,
            clientId: config.kafka.clientId,
            ssl: config.kafka.ssl,
            ...(config.kafka.sasl === undefined ? {} : { sasl: config.kafka.sasl }),
          },
          catalog: topics,
          // The status batch size is a setting, so the key is bound here rather than in the decorator's extras.
          topics: {
            emailStatusUpdated: {
              topic: topics.emailStatusUpdated as TopicDefinition<unknown>,
              maxBatchSize: consumer.statusBatchSize,
            },
          },
          consumer: {
            groupId: options.consumerGroupId ?? consumerGroups(kafka.topicSuffix).orders,
            partitionConcurrency: kafka.consumerConcurrency,
            perPartitionConcurrency: consumer.perPartitionConcurrency,
            sessionTimeoutMs: kafka.sessionTimeoutMs,
            shutdownTimeoutMs: kafka.shutdownTimeoutMs,
            retryPolicy: {
              maxAttempts: consumer.maxAttempts,
              initialDelayMs: consumer.retryInitialDelayMs,
              multiplier: 4,
              maxDelayMs: consumer.retryMaxDelayMs,
            },
          },
          producer: { compression: kafka.compression, maxBatchBytes: kafka.maxRequestBytes },
          healthTopic: topics.healthCheck,
          producesTo: [topics.ordersPastDue, topics.emailQueue],
          provisionTopics: kafka.topics,
        }),
        // Readiness gates the public API, which needs only PostgreSQL: during a Kafka outage orders are still
        // accepted into the outbox and published once the broker is back. A dead consumer fails liveness instead.
        HealthModule.forRoot({
          checks: [DatabaseReadinessCheck],
          liveness: { inject: [ConsumerLivenessCheck] },
        }),
        ObservabilityModule.forRoot({
          ...options.observability,
          service: 'orders',
          registry: createMetricsRegistry('orders'),
          management: config.management,
          correlationFields: ordersCorrelationFields,
        }),
      ],
      controllers: [
        OrdersController,
        TriggerController,
        StatusController,
        OpsController,
        PastDueConsumer,
        EmailStatusConsumer,
        ServiceUpdateConsumer,
      ],
      providers: [
        { provide: ORDERS_CONFIG, useValue: config },
        { provide: JwtVerifier, useValue: options.verifier },
        contactPointProvider(options),
        JwtAuthGuard,
        UnitOfWork,
        OrderRepository,
        EmailNotificationRepository,
        OutboxRepository,
        RateLimitRepository,
        LocalContactPointRepository,
        RecipientResolver,
        SendConditionClient,
        { provide: OutboundHttpClient, useValue: outboundClient(config) },
        OrdersService,
        PastDueService,
        EmailPublisherService,
        EmailStatusService,
        RateLimitService,
        SweeperService,
        OutboxRelay,
        OrdersScheduler,
        OrdersMetrics,
      ],
    };
  }
}
