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
import { ApiModule } from '../api/api.module';
import { JwtVerifier } from '../api/jwt-verifier';
import { ClientsModule } from '../clients/clients.module';
import { HttpContactPointClient } from '../clients/http-contact-point.client';
import { OutboundHttpClient } from '../clients/outbound-http.client';
import { type OrdersConfig } from '../config/orders.config';
import { CONTACT_POINT_SERVICE, ORDERS_CONFIG } from '../config/tokens';
import { DispatchModule } from '../dispatch/dispatch.module';
import { type ContactPointService } from '../domain/contact-point.service';
import { IntakeModule } from '../intake/intake.module';
import { OpsModule } from '../ops/ops.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { StatusModule } from '../status/status.module';
import { ordersEntities } from '../store/entities';
import { LocalContactPointRepository } from '../store/local-contact-point.repository';
import { ordersMigrations } from '../store/migrations';
import { StoreModule } from '../store/store.module';

export interface OrdersModuleOptions {
  readonly config: OrdersConfig;
  /** Verifies bearer tokens; built (and its key loaded) before the module, so a bad key fails start-up. */
  readonly verifier: JwtVerifier;
  /**
   * Default: `ConsumerGroups.orders` (suffixed with KAFKA_TOPIC_SUFFIX), the intake in `ConsumerGroups.ordersIntake`.
   * Tests pass their own group; the intake then reads in `intakeGroupOf(that group)`.
   */
  readonly consumerGroupId?: string;
  /** Default: per `CONTACT_POINTS_SOURCE` (local table or the HTTP API). */
  readonly contactPoints?: ContactPointService;
  /** Logger and shutdown hook from `startObservability` (main.ts); tests leave it out (silent pino). */
  readonly observability?: Omit<ObservabilityModuleOptions, 'service' | 'registry'>;
}

function contactPointProvider(options: OrdersModuleOptions): Provider & { provide: symbol } {
  if (options.contactPoints !== undefined) {
    return { provide: CONTACT_POINT_SERVICE, useValue: options.contactPoints };
  }
  const settings = options.config.contactPoints;
  if (settings.source === 'http') {
    return {
      provide: CONTACT_POINT_SERVICE,
      // Through the app's one outbound-request guard (ClientsModule).
      inject: [OutboundHttpClient],
      useFactory: (outbound: OutboundHttpClient) =>
        new HttpContactPointClient({
          // Validated by the configuration: required when the source is http.
          baseUrl: settings.baseUrl ?? '',
          timeoutMs: settings.timeoutMs,
          batchSize: settings.batchSize,
          maxResponseBytes: settings.maxResponseBytes,
          outbound,
        }),
    };
  }
  return { provide: CONTACT_POINT_SERVICE, useExisting: LocalContactPointRepository };
}

/** The intake's consumer group when a test names the main one: `<group>-intake`. */
export function intakeGroupOf(consumerGroupId: string): string {
  return `${consumerGroupId}-intake`;
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
    const groups = consumerGroups(kafka.topicSuffix);
    const groupId = options.consumerGroupId ?? groups.orders;
    const intakeGroupId =
      options.consumerGroupId === undefined ? groups.ordersIntake : intakeGroupOf(options.consumerGroupId);
    const globals = [
      { provide: ORDERS_CONFIG, useValue: config },
      { provide: JwtVerifier, useValue: options.verifier },
      contactPointProvider(options),
    ];
    return {
      module: OrdersModule,
      global: true,
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
            groupId,
            partitionConcurrency: kafka.consumerConcurrency,
            perPartitionConcurrency: consumer.perPartitionConcurrency,
            sessionTimeoutMs: kafka.sessionTimeoutMs,
            maxBytesPerPartition: kafka.fetchMaxBytesPerPartition,
            shutdownTimeoutMs: kafka.shutdownTimeoutMs,
            retryPolicy: {
              maxAttempts: consumer.maxAttempts,
              initialDelayMs: consumer.retryInitialDelayMs,
              multiplier: 4,
              maxDelayMs: consumer.retryMaxDelayMs,
            },
          },
          // Expanding a 100 000-recipient order takes seconds, and kafkajs fetches again only when every batch of
          // a fetch is handled: in the main consumer it held status updates, halts and service updates that long.
          separateConsumers: [{ groupId: intakeGroupId, topicKeys: ['ordersPastDue'] }],
          producer: { compression: kafka.compression, maxBatchBytes: kafka.maxRequestBytes },
          healthTopic: topics.healthCheck,
          producesTo: [topics.ordersPastDue, topics.emailQueue, topics.ordersHalted],
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
        StoreModule,
        ClientsModule,
        ApiModule,
        IntakeModule,
        DispatchModule,
        StatusModule,
        SchedulerModule,
        OpsModule,
      ],
      // What every layer may inject: the settings and the choices made here (the token verifier, and which
      // contact-point register RecipientResolver asks). The topic catalog comes from MessagingModule
      // (TOPIC_CATALOG); the consumer group is the transport's.
      providers: globals,
      exports: globals.map((provider) => provider.provide),
    };
  }
}
