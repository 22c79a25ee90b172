import { Inject, Injectable, Logger } from '@nestjs/common';
import { type EmailSendResult, type SendOperationResult } from '@notifications/contracts';
import { MessageProducer } from '@notifications/messaging';
import { STATUS_POLLER_TOPICS, type StatusPollerTopics } from '../polling/status-poller-topics';
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

  constructor(
    private readonly producer: MessageProducer,
    private readonly stats: DeliveryReportStats,
    @Inject(STATUS_POLLER_TOPICS) private readonly topics: StatusPollerTopics,
  ) {}

  /** Throws `MalformedDeliveryError` for a body that is not an acceptable Event Grid delivery. */
  parse(body: string): EventGridDelivery {
    return parseEventGridDelivery(body);
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
    for (const event of delivery.events) {
      if (event.kind === 'other') {
        ignored += 1;
        this.stats.ignored(event.eventType);
        continue;
      }
      const sendResult: EmailSendResult | undefined = resultForDeliveryStatus(event.status);
      if (sendResult === undefined) {
        unknownStatus += 1;
        this.stats.unknownStatus(event.status);
        this.logger.warn(
          `Delivery report with unknown status ${JSON.stringify(event.status)} for operation ${event.messageId} ignored` +
            (event.statusMessage ? ` (${event.statusMessage})` : ''),
        );
        continue;
      }
      results.push({ operationId: event.messageId, sendResult });
    }
    await this.producer.publishAll(this.topics.statusUpdated, results);
    for (const result of results) this.stats.published(result.sendResult);
    return {
      kind: 'processed',
      events: delivery.events.length,
      published: results.length,
      ignored,
      unknownStatus,
    };
  }
}
