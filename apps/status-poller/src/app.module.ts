import { type DynamicModule, Module } from '@nestjs/common';
import { HealthModule } from '@notifications/health';
import { consumerGroups, topicCatalog } from '@notifications/contracts';
import { ConsumerLivenessCheck, KafkaHealthCheck } from '@notifications/messaging';
import { MessagingModule } from '@notifications/messaging/nest';
import {
  ObservabilityModule,
  ProblemDetailsFilter,
  type ObservabilityModuleOptions,
} from '@notifications/observability';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { AcsOperationsClient } from './acs/acs-operations.client';
import { OperationStatusSource } from './acs/operation-status';
import { Clock } from './common/clock';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from './config/status-poller.config';
import { DeliveryReportAccessKeyGuard } from './delivery-reports/delivery-report-access-key.guard';
import { DeliveryReportController } from './delivery-reports/delivery-report.controller';
import { DeliveryReportService } from './delivery-reports/delivery-report.service';
import { DeliveryReportStats } from './delivery-reports/delivery-report-stats';
import { checkIntervals } from './domain/check-schedule';
import { ReportedOperations } from './domain/reported-operations';
import { DELAY_TIERS_KEY, DelayTiers } from './polling/delay-tiers';
import { KafkaPollingOutbox } from './polling/kafka-polling.outbox';
import { PollingOutbox } from './polling/polling-outbox';
import { PollingStats } from './polling/polling-stats';
import { SendingAcceptedConsumer } from './polling/sending-accepted.consumer';
import { StatusPollingService } from './polling/status-polling.service';
import { StatsController } from './stats/stats.controller';

@Module({})
export class StatusPollerModule {
  /**
   * `observability`: logger and shutdown hook from `startObservability` (main.ts); tests leave it out (silent).
   */
  static forRoot(
    config: StatusPollerConfig,
    observability: Omit<ObservabilityModuleOptions, 'service'> = {},
  ): DynamicModule {
    const { kafka } = config;
    const catalog = topicCatalog(kafka.topicSuffix);
    const tiers = new DelayTiers(catalog.emailSendingAccepted, checkIntervals(config.polling));
    return {
      module: StatusPollerModule,
      imports: [
        MessagingModule.forRoot({
          connection: {
            brokers: kafka.brokers,
            clientId: kafka.clientId,
            ssl: kafka.ssl,
            ...(kafka.sasl === undefined ? {} : { sasl: kafka.sasl }),
          },
          catalog,
          topics: { [DELAY_TIERS_KEY]: tiers.bindings() },
          consumer: {
            groupId: config.topics.groupId ?? consumerGroups(kafka.topicSuffix).statusPoller,
            partitionConcurrency: kafka.consumerConcurrency,
            perPartitionConcurrency: config.polling.perPartitionConcurrency,
            sessionTimeoutMs: kafka.sessionTimeoutMs,
            maxBytesPerPartition: kafka.fetchMaxBytesPerPartition,
            shutdownTimeoutMs: kafka.shutdownTimeoutMs,
            maxWaitTimeMs: config.polling.fetchMaxWaitMs,
          },
          producer: { compression: kafka.compression, maxBatchBytes: kafka.maxRequestBytes },
          healthTopic: catalog.emailHealthCheck,
          producesTo: [catalog.emailStatusUpdated],
          provisionTopics: kafka.topics,
        }),
        HealthModule.forRoot({ inject: [KafkaHealthCheck], liveness: { inject: [ConsumerLivenessCheck] } }),
        ObservabilityModule.forRoot({
          ...observability,
          service: 'status-poller',
          management: config.management,
        }),
      ],
      controllers: [SendingAcceptedConsumer, DeliveryReportController, StatsController],
      providers: [
        { provide: STATUS_POLLER_CONFIG, useValue: config },
        { provide: DelayTiers, useValue: tiers },
        { provide: ReportedOperations, useValue: new ReportedOperations(config.polling.reportedMemory) },
        Clock,
        { provide: OperationStatusSource, useClass: AcsOperationsClient },
        { provide: PollingOutbox, useClass: KafkaPollingOutbox },
        PollingStats,
        StatusPollingService,
        DeliveryReportStats,
        DeliveryReportService,
        DeliveryReportAccessKeyGuard,
      ],
    };
  }
}

/**
 * HTTP set-up shared by `main.ts` and the tests. Create the app with `{ bodyParser: false }`: every body is read
 * as text, because the only endpoint with a body (the delivery-report webhook) parses and reports on it itself.
 */
export function configureHttp(
  app: NestExpressApplication,
  config: StatusPollerConfig,
  options: { shutdownHooks?: boolean } = {},
): void {
  app.useBodyParser('text', { type: () => true, limit: config.deliveryReports.maxBodyBytes });
  app.useGlobalFilters(new ProblemDetailsFilter());
  // Drain the consumer and flush the producer on SIGTERM (tests close their apps themselves).
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
}
