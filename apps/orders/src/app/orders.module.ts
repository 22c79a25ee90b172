import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { consumerGroups, topicCatalog } from '@notifications/contracts';
import { DatabaseReadinessCheck, databaseModule } from '@notifications/database';
import { HealthModule } from '@notifications/health';
import { ConsumerLivenessCheck, MessagingModule } from '@notifications/messaging';
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
import { ordersTopics, type OrdersTopics } from '../config/orders-topics';
import { CONTACT_POINT_SERVICE, ORDERS_CONFIG, ORDERS_TOPICS } from '../config/tokens';
import { DispatchModule } from '../dispatch/dispatch.module';
import { type ContactPointService } from '../domain/contact-point.service';
import { IntakeModule } from '../intake/intake.module';
import { ConsumersModule } from '../messaging/consumers.module';
import { ORDERS_CONSUMER_GROUP } from '../messaging/orders-consumer.host';
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
  /** Default: the reference's topics. Tests pass their own. */
  readonly topics?: OrdersTopics;
  /** Default: `ConsumerGroups.orders` (suffixed with KAFKA_TOPIC_SUFFIX). Tests pass their own group. */
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
    const topics = options.topics ?? ordersTopics(topicCatalog(config.kafka.topicSuffix));
    const globals = [
      { provide: ORDERS_CONFIG, useValue: config },
      { provide: ORDERS_TOPICS, useValue: topics },
      {
        provide: ORDERS_CONSUMER_GROUP,
        useValue: options.consumerGroupId ?? consumerGroups(config.kafka.topicSuffix).orders,
      },
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
          producer: { compression: config.kafka.compression, maxBatchBytes: config.kafka.maxRequestBytes },
          healthTopic: topics.healthCheck,
          producesTo: [topics.pastDue, topics.emailQueue],
          provisionTopics: config.kafka.topics,
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
        ConsumersModule,
        OpsModule,
      ],
      // What every layer may inject: the settings, the topics, and the choices made here (the consumer group,
      // the token verifier, and which contact-point register RecipientResolver asks).
      providers: globals,
      exports: globals.map((provider) => provider.provide),
    };
  }
}
