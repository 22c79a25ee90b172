import { Inject, Injectable, Logger } from '@nestjs/common';
import { type EmailSendResult, type SendOperationResult, type TopicCatalog } from '@notifications/contracts';
import { MessageProducer } from '@notifications/messaging';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from '../config/status-poller.config';
import { ReportedOperations } from '../domain/reported-operations';
import { resultForDeliveryStatus } from './delivery-report-status';
import { parseEventGridDelivery, type EventGridDelivery } from './event-grid-events';
import { DeliveryReportStats } from './delivery-report-stats';

export type DeliveryOutcome =
  | { readonly kind: 'validation'; readonly validationCode: string }
  | {
      readonly kind: 'processed';
      readonly events: number;
      readonly published: number;
      readonly ignored: number;
      readonly unknownStatus: number;
      /** Events from another resource than the configured ACS resource: not processed. */
      readonly foreign: number;
    };

/**
 * Turns Event Grid deliveries into `SendOperationResult`s on `email.status.updated`: `operationId` = the report's
 * `messageId` (= the ACS operation id, = the notification id because the sender uses it as Operation-Id), no
 * notificationId, key = operationId. Resolves only once the broker has every result, so a failure makes Event
 * Grid redeliver the batch (its retries, and ours, are at-least-once; orders applies statuses idempotently).
 */
@Injectable()
export class DeliveryReportService {
  private readonly logger = new Logger(DeliveryReportService.name);
  private readonly acsResourceId: string;
  private readonly maxEventsPerRequest: number;

  constructor(
    private readonly producer: MessageProducer,
    private readonly stats: DeliveryReportStats,
    private readonly reported: ReportedOperations,
    @Inject(TOPIC_CATALOG) private readonly topics: TopicCatalog,
    @Inject(STATUS_POLLER_CONFIG) config: StatusPollerConfig,
  ) {
    // Azure resource ids are case-insensitive.
    this.acsResourceId = config.deliveryReports.acsResourceId.toLowerCase();
    this.maxEventsPerRequest = config.deliveryReports.maxEventsPerRequest;
  }

  /** Throws `MalformedDeliveryError`, or `TooManyEventsError` beyond DELIVERY_REPORT_MAX_EVENTS. */
  parse(body: string): EventGridDelivery {
    return parseEventGridDelivery(body, this.maxEventsPerRequest);
  }

  async process(delivery: EventGridDelivery): Promise<DeliveryOutcome> {
    if (delivery.kind === 'validation') {
      this.stats.validation();
      this.logger.log('Answered an Event Grid subscription validation handshake');
      return delivery;
    }
    const results: SendOperationResult[] = [];
    let ignored = 0;
    let unknownStatus = 0;
    let foreign = 0;
    let foreignSource: string | undefined;
    for (const event of delivery.events) {
      // Anyone holding the webhook key could otherwise report statuses of any operation id: only the configured
      // ACS resource's events count (a second resource's subscription pointed here by mistake, too).
      if (event.source?.toLowerCase() !== this.acsResourceId) {
        foreign += 1;
        foreignSource ??= event.source ?? '(none)';
        this.stats.foreign();
        continue;
      }
      if (event.kind === 'other') {
        ignored += 1;
        this.stats.ignored(event.eventType);
        continue;
      }
      const sendResult: EmailSendResult | undefined = resultForDeliveryStatus(event.status);
      if (sendResult === undefined) {
        unknownStatus += 1;
        this.stats.unknownStatus(event.status);
        // The status message is free text from the receiving mail system (it may quote the address): not logged.
        this.logger.warn(
          `Delivery report with unknown status ${JSON.stringify(event.status.slice(0, 100))} for operation ${event.messageId} ignored`,
        );
        continue;
      }
      results.push({ operationId: event.messageId, sendResult });
    }
    if (foreign > 0) {
      this.logger.warn(
        `${foreign} event(s) not from the configured ACS resource (ACS_RESOURCE_ID) refused, e.g. from ` +
          JSON.stringify(foreignSource?.slice(0, 300)),
      );
    }
    await this.producer.publishAll(this.topics.emailStatusUpdated, results);
    for (const result of results) {
      this.stats.published(result.sendResult);
      // Only now, with the result on the broker, may polling skip this operation's check.
      this.reported.remember(result.operationId, result.sendResult);
    }
    return {
      kind: 'processed',
      events: delivery.events.length,
      published: results.length,
      ignored,
      unknownStatus,
      foreign,
    };
  }
}
