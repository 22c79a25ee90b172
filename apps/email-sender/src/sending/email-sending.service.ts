import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Email } from '@notifications/contracts';
import { AcsEmailClient, type AcsSendResult } from '../acs/acs-email.client';
import { EmailEventsPublisher } from './email-events.publisher';
import { AcsOutages } from './acs-outages';
import { HaltedOrders } from './halted-orders';
import { RecentlyAccepted } from './recently-accepted';
import { HoldExceededError, SendThrottle, type HoldContext, type ReleaseSend } from './send-throttle';
import { SendStatistics } from './send-statistics';

/** Where this delivery of the message stands in its bounded retry sequence. */
export interface DeliveryAttempt extends HoldContext {
  /** 1 on first delivery, then 2, 3, … from the retry topic. */
  readonly attempt: number;
  readonly isLastAttempt: boolean;
  /** Read again after a crash or rebalance: an earlier reader may have sent it (MessageContext). */
  readonly maybeHandledBefore: boolean;
  /** The notification's order (header `x-order-id`, set by orders): what a halt is checked against. */
  readonly orderId?: string;
}

/**
 * What the caller has to do with the message: nothing more, retry it later (an attempt spent), or pause its
 * partition and read it again at the same attempt because ACS is unavailable (no attempt spent).
 */
export type SendDisposition =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly delayMs: number | undefined; readonly reason: string }
  | { readonly kind: 'acsUnavailable'; readonly reason: string };

export interface EmailSendingSettings {
  /** The pause after a 429 that came without Retry-After (SPEC: 60 s). */
  readonly defaultRetryAfterMs: number;
  /** EMAIL_MAX_ACS_OUTAGE_PAUSES: outage pauses in a row for one email before it spends an attempt (AcsOutages). */
  readonly maxAcsOutagePausesPerEmail: number;
}

export const EMAIL_SENDING_SETTINGS = Symbol('EMAIL_SENDING_SETTINGS');

// About 100 bytes each: a few MB, enough to span the time an upstream duplicate takes to arrive.
const RECENTLY_ACCEPTED_CAPACITY = 20_000;

/**
 * Sends one email and publishes what came of it (SPEC sections 2 and 4):
 *
 * - accepted → SendNotificationOperationIdentifier on email.sending.accepted;
 * - refused (suppressed, bad address, any other 4xx) → SendOperationResult Failed_* on email.status.updated;
 * - 429 → ResourceLimitExceeded on altinn.platform.service.updated, *then* Failed_TransientError;
 * - 5xx, no answer, timeout → ACS is unavailable: the partition pauses and the email is read again at the same
 *   attempt (`acsUnavailable`), unless AcsOutages judges the failure the email's own (ACS answers other sends,
 *   or too many pauses in a row): then, like 401/403, retry later; on the last attempt Failed_TransientError.
 *
 * Every publish is awaited, so when this resolves the outcome is durable; if one fails the error propagates and
 * the message is read again.
 *
 * One email per notification rests on documented ACS behaviour only (a repeated `Operation-Id` may well be a
 * second email): a delivery that may have been sent before — a retry (attempt > 1) or a message read again after
 * a crash or rebalance, or read again after an outage pause (the dropped POST may have reached ACS) — first asks
 * ACS for the operation (`GET /emails/operations/{notificationId}`) and, when it
 * exists, reports it accepted without a POST. First deliveries, the steady state, make no extra request.
 */
@Injectable()
export class EmailSendingService {
  private readonly logger = new Logger(EmailSendingService.name);
  private readonly recentlyAccepted = new RecentlyAccepted(RECENTLY_ACCEPTED_CAPACITY);
  private readonly outages: AcsOutages;

  constructor(
    private readonly acs: AcsEmailClient,
    private readonly throttle: SendThrottle,
    private readonly publisher: EmailEventsPublisher,
    private readonly stats: SendStatistics,
    private readonly halts: HaltedOrders,
    @Inject(EMAIL_SENDING_SETTINGS) private readonly settings: EmailSendingSettings,
  ) {
    this.outages = new AcsOutages(settings.maxAcsOutagePausesPerEmail, RECENTLY_ACCEPTED_CAPACITY);
  }

  async send(
    email: Email,
    delivery: DeliveryAttempt,
    consumedAt: number = performance.now(),
  ): Promise<SendDisposition> {
    const id = email.notificationId;
    if (this.recentlyAccepted.has(id)) return this.alreadyAccepted(id, 'accepted by this process');
    if (delivery.attempt > 1 || delivery.maybeHandledBefore || this.outages.mayHaveBeenPosted(id)) {
      const lookup = await this.acs.findOperation(id);
      if (lookup.kind === 'exists') return this.alreadyAccepted(id, `ACS operation ${lookup.status}`);
      // No answer from ACS to a GET: an outage like an unanswered POST (the same bound on pauses applies).
      if (lookup.kind === 'unknown')
        return this.unavailable(email, delivery, lookup.reason, { outage: lookup.outage === true });
    }
    let release: ReleaseSend;
    try {
      release = await this.throttle.acquire(delivery);
    } catch (error) {
      if (!(error instanceof HoldExceededError)) throw error;
      this.stats.outcome('heldBack');
      return this.retryOrGiveUp(email, delivery, error.delayMs, error.message);
    }
    let result: AcsSendResult;
    try {
      // Inside the send slot, right before the POST: every halt orders has answered before this point is known here
      // (HALT_PROPAGATION_MS), so sends in flight at a halt's answer are at most EMAIL_SEND_CONCURRENCY (apps/orders
      // README, "Halt").
      // When it cannot be known (Kafka unavailable), the error pauses the partition: nothing is sent blind.
      if (delivery.orderId !== undefined && (await this.halts.isHalted(delivery.orderId))) {
        release();
        return await this.withhold(id, delivery.orderId);
      }
      result = await this.acs.send(email);
    } finally {
      release();
    }

    if (result.kind !== 'unavailable') this.outages.sendAnswered(id);
    switch (result.kind) {
      case 'accepted':
        this.recentlyAccepted.remember(id);
        await this.publisher.accepted(id, result.operationId);
        this.stats.accepted(performance.now() - consumedAt);
        this.logger.debug(`Email ${id} accepted by ACS as operation ${result.operationId}`);
        return { kind: 'done' };
      case 'rejected':
        await this.publisher.sendFailed(id, result.sendResult);
        this.stats.outcome('rejected', result.reason);
        this.stats.resultPublished(result.sendResult);
        this.logger.warn(`Email ${id} refused by ACS → ${result.sendResult}: ${result.reason}`);
        return { kind: 'done' };
      case 'throttled': {
        const retryAfterMs = result.retryAfterMs ?? this.settings.defaultRetryAfterMs;
        const resetAt = Date.now() + retryAfterMs;
        this.logger.warn(
          `ACS rate limit hit sending ${id}; pausing sends until ${new Date(resetAt).toISOString()} (${result.reason})`,
        );
        // The pause must be on the topic before the failure: orders must not re-queue the email into the limit.
        await this.throttle.pauseUntil(resetAt, (at) => this.publisher.resourceLimitExceeded(new Date(at)));
        await this.publisher.sendFailed(id, 'Failed_TransientError');
        this.stats.outcome('rateLimited', result.reason);
        this.stats.resultPublished('Failed_TransientError');
        return { kind: 'done' };
      }
      case 'unavailable':
        return this.unavailable(email, delivery, result.reason, {
          outage: result.outage === true,
          posted: true,
          retryAfterMs: result.retryAfterMs,
        });
    }
  }

  /** The order was halted: not sent; orders makes the notification Cancelled once the report is on Kafka. */
  private async withhold(id: string, orderId: string): Promise<SendDisposition> {
    await this.publisher.withheld(id, orderId);
    this.stats.outcome('withheld');
    this.logger.log(`Email ${id} withheld: order ${orderId} was halted`);
    return { kind: 'done' };
  }

  /**
   * ACS gave no usable answer. An outage pauses the partition without spending an attempt (the consumer throws
   * InfrastructureUnavailableError('acs')); the email is read again at the same attempt and, because the POST may
   * have reached ACS, looked up first. Anything else, and an outage AcsOutages judges the email's own, spends an
   * attempt. A 503's Retry-After is not used by a pause: the runner's backoff (1 s doubling to 30 s) paces it.
   */
  private async unavailable(
    email: Email,
    delivery: DeliveryAttempt,
    reason: string,
    failure: {
      readonly outage: boolean;
      readonly posted?: boolean;
      readonly retryAfterMs?: number | undefined;
    },
  ): Promise<SendDisposition> {
    const id = email.notificationId;
    if (failure.outage && this.outages.shouldPause(id)) {
      this.stats.outcome('acsUnavailable', reason);
      return { kind: 'acsUnavailable', reason };
    }
    if (delivery.isLastAttempt && failure.posted === true) {
      // The POST may have reached ACS although no answer did: never report a sent email as not sent.
      const lookup = await this.acs.findOperation(id);
      if (lookup.kind === 'exists') return this.alreadyAccepted(id, `ACS operation ${lookup.status}`);
    }
    return this.retryOrGiveUp(email, delivery, failure.retryAfterMs, reason);
  }

  private async alreadyAccepted(id: string, status: string): Promise<SendDisposition> {
    this.outages.resolved(id);
    this.recentlyAccepted.remember(id);
    await this.publisher.accepted(id, id);
    this.stats.outcome('alreadyAccepted');
    this.logger.log(`Email ${id} was sent before (${status}); not sending it again`);
    return { kind: 'done' };
  }

  private async retryOrGiveUp(
    email: Email,
    delivery: DeliveryAttempt,
    delayMs: number | undefined,
    reason: string,
  ): Promise<SendDisposition> {
    if (!delivery.isLastAttempt) {
      this.stats.outcome('retryScheduled', reason);
      return { kind: 'retry', delayMs, reason };
    }
    // Out of attempts: report instead of dead-lettering, so orders can send the email again (until it expires).
    await this.publisher.sendFailed(email.notificationId, 'Failed_TransientError');
    this.stats.outcome('gaveUp', reason);
    this.stats.resultPublished('Failed_TransientError');
    this.logger.warn(
      `Email ${email.notificationId} not sent after ${delivery.attempt} attempts → Failed_TransientError: ${reason}`,
    );
    return { kind: 'done' };
  }
}
