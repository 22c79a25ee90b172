import { Inject, Injectable, Logger } from '@nestjs/common';
import { ACS_EMAIL_RESOURCE, ORDER_ID_HEADER, type TopicCatalog } from '@notifications/contracts';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';
import { MessageProducer, encodedRecordBytes } from '@notifications/messaging';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork } from '../store/unit-of-work';
import { OrderRepository } from '../store/order.repository';
import {
  OUTBOX_HEADER_ALLOWANCE_BYTES,
  OutboxRepository,
  type OutboxDraft,
} from '../store/outbox.repository';
import { RateLimitRepository } from '../store/rate-limit.repository';
import { EmailNotificationRepository } from '../store/email-notification.repository';
import { personalisedEmail } from '../domain/personalisation';

export type PublishOutcome =
  | { readonly kind: 'paused'; readonly until: Date }
  | {
      readonly kind: 'claimed';
      readonly count: number;
      /** Of those, emails too large for any Kafka record: their notifications are `Failed`, nothing is sent. */
      readonly tooLarge: number;
      /** The claim stopped at its row or byte bound: more may be due. */
      readonly more: boolean;
    };

/**
 * Claims New notifications (`New → Sending`) and writes their personalised `Email` messages to the outbox in the
 * same transaction, so a notification is in Sending if and only if its email is on its way to `email.queue`.
 * Claims nothing while a rate-limit pause of the email resource is in force. A claimed notification of a halted
 * order becomes Cancelled instead of being queued (its order then ends Cancelled after the next completion check).
 */
@Injectable()
export class EmailPublisherService {
  private readonly logger = new Logger(EmailPublisherService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly notifications: EmailNotificationRepository,
    private readonly orders: OrderRepository,
    private readonly outbox: OutboxRepository,
    private readonly rateLimits: RateLimitRepository,
    private readonly producer: MessageProducer,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(TOPIC_CATALOG) private readonly topics: TopicCatalog,
  ) {}

  async publishBatch(limit = this.config.scheduler.emailClaimBatchSize): Promise<PublishOutcome> {
    const maxBytes = this.config.scheduler.emailClaimBatchBytes;
    const outcome = await this.uow.run(async (tx): Promise<PublishOutcome> => {
      const pausedUntil = await this.rateLimits.activePause(tx, ACS_EMAIL_RESOURCE);
      if (pausedUntil !== undefined) return { kind: 'paused', until: pausedUntil };
      const claimed = await this.notifications.claimForSending(tx, limit, maxBytes);
      if (claimed.length === 0) return { kind: 'claimed', count: 0, tooLarge: 0, more: false };
      const orderIds = [...new Set(claimed.map((n) => n.orderId))];
      const templates = await this.orders.emailTemplates(tx, orderIds);
      // A halted order's notification is never queued (apps/orders README, "Halt"): the halt cancels its New ones,
      // but one may come back to New in a race with the halt (a transient failure's resend decided just before).
      const halted = await this.orders.haltedAmong(tx, orderIds);
      const withheld: string[] = [];
      const topic = this.topics.emailQueue;
      const drafts: OutboxDraft[] = [];
      let tooLarge = 0;
      let claimedBytes = 0;
      for (const notification of claimed) {
        if (halted.has(notification.orderId)) {
          withheld.push(notification.id);
          continue;
        }
        const template = templates.get(notification.orderId);
        // Unreachable: email_texts rows are written with their order and never deleted on their own.
        if (template === undefined) throw new Error(`Order ${notification.orderId} has no email text`);
        claimedBytes += Buffer.byteLength(template.subject) + Buffer.byteLength(template.body);
        const email = personalisedEmail(notification.id, notification.toAddress, template, {
          ...(notification.recipientName === undefined ? {} : { name: notification.recipientName }),
          ...(notification.nationalIdentityNumber !== undefined
            ? { number: notification.nationalIdentityNumber }
            : notification.organizationNumber !== undefined
              ? { number: notification.organizationNumber }
              : {}),
        });
        const key = topic.keyOf(email);
        const payload = topic.contract.serialize(email);
        const bytes =
          encodedRecordBytes({ key: key ?? null, value: payload }) + OUTBOX_HEADER_ALLOWANCE_BYTES;
        if (bytes > this.producer.maxRecordBytes) {
          // Personalisation can grow a body the API accepted (names replace placeholders many times over): such an
          // email fits in no Kafka record, so it ends Failed now rather than stall the outbox. No address or body
          // in the log, only ids and sizes.
          await this.notifications.setResult(tx, notification.id, 'Failed', undefined);
          this.logger.error(
            `Email notification ${notification.id} of order ${notification.orderId} failed: its message of ` +
              `${bytes} bytes exceeds the largest Kafka record (${this.producer.maxRecordBytes} bytes)`,
          );
          tooLarge += 1;
          continue;
        }
        drafts.push({
          topic: topic.name,
          key,
          payload,
          // The context of the `orders.pastdue` processing that created the notification: one trace per order.
          traceContext: notification.traceContext ?? null,
          // The reference's Email has no order id; email-sender needs it to withhold a halted order's emails.
          headers: { [ORDER_ID_HEADER]: notification.orderId },
        });
      }
      await this.notifications.cancelClaimed(tx, withheld);
      await this.outbox.add(tx, drafts);
      return {
        kind: 'claimed',
        count: claimed.length,
        tooLarge,
        // The claim stops before the notification that would pass `maxBytes`, so a cut claim holds at least that.
        more: claimed.length >= limit || claimedBytes >= maxBytes,
      };
    });
    if (outcome.kind === 'claimed' && outcome.count > 0) {
      this.logger.debug(`Claimed ${outcome.count} email notification(s) for sending`);
    }
    return outcome;
  }
}
