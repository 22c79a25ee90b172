import { createSecretKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { chunks } from '../domain/chunks';
import { errorMessage } from '../domain/dependency-unavailable.error';
import {
  destinationLabel,
  failureReason,
  type HttpDestinationSettings,
  isBatchable,
  type KafkaDestinationSettings,
  renderPayload,
  renderTopic,
  signedHeaders,
  type SubscriptionEvent,
} from '../domain/subscription-events';
import { KAFKA_EVENT_SENDER, type KafkaEventSender } from '../clients/kafka-event-sender';
import { OutboundHttpClient, OutboundRequestError } from '../clients/outbound-http.client';
import {
  type ClaimedSubscription,
  SubscriptionDeliveryRepository,
} from '../store/subscription-delivery.repository';
import { type Tx, UnitOfWork } from '../store/unit-of-work';
import { SubscriptionDeliveryMetrics } from './subscription-delivery.metrics';

/** What one delivery round of one subscription did. */
export interface DeliveryRound {
  readonly subscriptionId: string;
  readonly destination: string;
  /** Events read for this round (its oldest pending, up to SUBSCRIPTIONS_DELIVERY_BATCH_SIZE). */
  readonly read: number;
  readonly delivered: number;
  /** Failed requests or sends this round (a round stops at its first failure, so 0 or 1). */
  readonly failed: number;
  readonly failure?: string;
  /** More events may be waiting (a full batch went out, or the round's time ran out). */
  readonly more: boolean;
}

interface Sent {
  readonly delivered: readonly SubscriptionEvent[];
  readonly failure?: string;
  readonly outOfTime: boolean;
}

// A receiver's answer is only read for its status; a short body is all it needs to send.
const MAX_RESPONSE_BYTES = 64 * 1024;
// Signing keys kept (one per subscription); beyond it the cache starts over.
const MAX_CACHED_KEYS = 10_000;

/**
 * Delivers the events the database triggers recorded (`subscription_events`) to each subscription's destination.
 *
 * A round holds one subscription: in one transaction it locks the subscription row (SKIP LOCKED: other replicas and
 * slots take other subscriptions), reads its oldest pending events in the order they were recorded, sends them in
 * that order (HTTP: one request after the other, stopping at the first failure; Kafka: one batch), deletes the
 * delivered ones and records the outcome on the subscription (success counters, or the failure, its back-off and
 * `failed` after too many in a row), then commits. Nothing is written before the sends, so a crash or a lost
 * commit means a redelivery, never a loss; receivers de-duplicate on the stable `eventId`.
 *
 * Up to SUBSCRIPTIONS_DELIVERY_CONCURRENCY rounds run at once, each on its own: a slow or dead destination holds
 * one slot (for at most about 2 × SUBSCRIPTIONS_DELIVERY_TIMEOUT) while the other slots keep delivering.
 */
@Injectable()
export class SubscriptionDeliveryService {
  private readonly logger = new Logger(SubscriptionDeliveryService.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly keys = new Map<string, { readonly secret: string; readonly key: KeyObject }>();
  private moreWork: (() => void) | undefined;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: SubscriptionDeliveryRepository,
    private readonly outbound: OutboundHttpClient,
    private readonly metrics: SubscriptionDeliveryMetrics,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    // Provided by ClientsModule (KafkaDestinationPool); without it Kafka subscriptions fail with a reason.
    @Optional() @Inject(KAFKA_EVENT_SENDER) private readonly kafka?: KafkaEventSender,
  ) {}

  /** Called when a round ends with more events waiting, so that the driving loop looks again at once. */
  onMoreWork(listener: () => void): void {
    this.moreWork = listener;
  }

  /**
   * Starts rounds in the free slots, one per due subscription, and resolves once every free slot has one or no
   * subscription is due, without waiting for the rounds themselves. When every slot is busy it first waits for one
   * to free up. Resolves true when it started a round (look again at once: more may be due).
   */
  async deliverDue(): Promise<boolean> {
    const { deliveryConcurrency } = this.config.subscriptions;
    if (this.inFlight.size >= deliveryConcurrency) await Promise.race(this.inFlight);
    let started = 0;
    while (this.inFlight.size < deliveryConcurrency && (await this.startRound())) started += 1;
    return started > 0;
  }

  /** Resolves when the rounds under way have ended (shutdown: their transactions commit or roll back first). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Runs one round now, in the caller's time (tests, and the unit that the slots run). */
  async deliverNext(): Promise<DeliveryRound | undefined> {
    let round: DeliveryRound | undefined;
    await this.uow.run(async (tx) => {
      const subscription = await this.claim(tx);
      if (subscription !== undefined) round = await this.deliver(tx, subscription);
    });
    if (round !== undefined) this.count(round);
    return round;
  }

  /**
   * Starts a round in a slot of its own and resolves, as soon as its claim is known, whether it found a
   * subscription; the round carries on in the slot until its transaction ends.
   */
  private startRound(): Promise<boolean> {
    return new Promise<boolean>((claimed, claimFailed) => {
      let known = false;
      let round: DeliveryRound | undefined;
      const running = this.uow
        .run(async (tx) => {
          const subscription = await this.claim(tx);
          known = true;
          claimed(subscription !== undefined);
          if (subscription !== undefined) round = await this.deliver(tx, subscription);
        })
        .then(
          () => {
            if (round === undefined) return;
            this.count(round);
            if (round.more) this.moreWork?.();
          },
          (error: unknown) => {
            if (!known) return claimFailed(error);
            // The transaction rolled back: the round's events stay pending and go out again (at least once).
            this.logger.error(
              `Subscription delivery round failed, its events stay pending: ${errorMessage(error)}`,
            );
          },
        )
        .finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
    });
  }

  private async claim(tx: Tx): Promise<ClaimedSubscription | undefined> {
    // Backstop for a process that stops answering mid-round: PostgreSQL ends the transaction and frees the
    // subscription. A round is idle between its reads and its writes while it sends: at most its time budget
    // (SUBSCRIPTIONS_DELIVERY_TIMEOUT) plus one send's timeout.
    await tx.manager.query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)", [
      String(2 * this.config.subscriptions.deliveryTimeoutMs + 5_000),
    ]);
    return this.store.claimDue(tx);
  }

  private async deliver(tx: Tx, subscription: ClaimedSubscription): Promise<DeliveryRound> {
    const settings = this.config.subscriptions;
    const events = await this.store.pendingEvents(tx, subscription.id, settings.deliveryBatchSize);
    const destination = destinationLabel(subscription.destination);
    const sent: Sent =
      events.length === 0
        ? { delivered: [], outOfTime: false }
        : await this.send(subscription, events).catch((error: unknown): Sent => ({
            delivered: [],
            failure: errorMessage(error),
            outOfTime: false,
          }));
    const failure = sent.failure === undefined ? undefined : failureReason(sent.failure);
    await this.store.deleteDelivered(
      tx,
      sent.delivered.map((event) => event.id),
    );
    await this.store.recordRound(
      tx,
      subscription.id,
      { delivered: sent.delivered.length, ...(failure === undefined ? {} : { failure }) },
      {
        initialMs: settings.retryInitialDelayMs,
        maxMs: settings.retryMaxDelayMs,
        maxConsecutiveFailures: settings.maxConsecutiveFailures,
      },
    );
    if (failure !== undefined) {
      this.logger.warn(
        `Subscription ${subscription.id} (${destination}): ${sent.delivered.length} of ${events.length} event(s) delivered, then ${failure}; fails in a row: ${subscription.failsCounter + 1}`,
      );
    }
    return {
      subscriptionId: subscription.id,
      destination,
      read: events.length,
      delivered: sent.delivered.length,
      failed: failure === undefined ? 0 : 1,
      ...(failure === undefined ? {} : { failure }),
      more: failure === undefined && (sent.outOfTime || events.length >= settings.deliveryBatchSize),
    };
  }

  private send(subscription: ClaimedSubscription, events: readonly SubscriptionEvent[]): Promise<Sent> {
    const { destination } = subscription;
    if ('http' in destination) return this.sendHttp(subscription, destination.http, events);
    if ('kafka' in destination) return this.sendKafka(subscription, destination.kafka, events);
    return Promise.resolve({
      delivered: [],
      failure: 'the destination is neither http nor kafka',
      outOfTime: false,
    });
  }

  /**
   * POSTs the events in order, `maxEventsPerRequest` per request (a JSON array when more than one), through the
   * outbound-request guard; stops at the first answer that is not 2xx (or no answer) so that no event overtakes
   * an earlier one. Starts no request after the round's time budget; the rest waits for the next round.
   */
  private async sendHttp(
    subscription: ClaimedSubscription,
    http: HttpDestinationSettings,
    events: readonly SubscriptionEvent[],
  ): Promise<Sent> {
    const { deliveryTimeoutMs } = this.config.subscriptions;
    const perRequest = isBatchable(subscription.custom) ? Math.max(1, http.maxEventsPerRequest ?? 1) : 1;
    const key = this.signingKey(subscription);
    const budgetEnds = Date.now() + deliveryTimeoutMs;
    const delivered: SubscriptionEvent[] = [];
    for (const batch of chunks(events, perRequest)) {
      if (delivered.length > 0 && Date.now() >= budgetEnds) return { delivered, outOfTime: true };
      const payloads = batch.map((event) => renderPayload(event, subscription.custom));
      const [first] = payloads;
      if (first === undefined) continue;
      const body = batch.length === 1 ? first.body : `[${payloads.map((payload) => payload.body).join(',')}]`;
      const failure = await this.post(
        http.url,
        {
          'content-type': first.contentType,
          ...signedHeaders(key, batch, body, new Date()),
        },
        body,
        deliveryTimeoutMs,
      );
      if (failure !== undefined) return { delivered, failure, outOfTime: false };
      delivered.push(...batch);
    }
    return { delivered, outOfTime: false };
  }

  /** One POST; the failure's description (never the answer's body), or undefined when answered 2xx. */
  private async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<string | undefined> {
    try {
      const response = await this.outbound.request(url, {
        method: 'POST',
        headers,
        body,
        timeoutMs,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        // A round sends its events one request after another to one receiver: one connection, not one each.
        keepAlive: true,
      });
      if (response.status >= 200 && response.status < 300) return undefined;
      return `answered HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof OutboundRequestError) return `${error.failure}: ${error.message}`;
      return errorMessage(error);
    }
  }

  /** The whole batch in one send: acknowledged as a whole or failed as a whole (then sent again later). */
  private async sendKafka(
    subscription: ClaimedSubscription,
    kafka: KafkaDestinationSettings,
    events: readonly SubscriptionEvent[],
  ): Promise<Sent> {
    if (this.kafka === undefined) {
      return { delivered: [], failure: 'Kafka delivery is not available in this process', outOfTime: false };
    }
    const records = events.map((event) => ({
      topic: renderTopic(event, kafka.topic, subscription.custom),
      key: event.orderId,
      value: renderPayload(event, subscription.custom).body,
      headers: { type: event.type, eventId: event.eventId },
    }));
    const { deliveryTimeoutMs } = this.config.subscriptions;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not acknowledged within ${deliveryTimeoutMs} ms`)),
        deliveryTimeoutMs,
      );
    });
    try {
      await Promise.race([this.kafka.send(kafka, records), timedOut]);
      return { delivered: events, outOfTime: false };
    } catch (error) {
      return { delivered: [], failure: `Kafka: ${errorMessage(error)}`, outOfTime: false };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The subscription's signing key as a KeyObject (HMAC with a KeyObject is faster than with a Buffer key). */
  private signingKey(subscription: ClaimedSubscription): KeyObject {
    const cached = this.keys.get(subscription.id);
    if (cached !== undefined && cached.secret === subscription.signingSecret) return cached.key;
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
    const key = createSecretKey(Buffer.from(subscription.signingSecret, 'utf8'));
    this.keys.set(subscription.id, { secret: subscription.signingSecret, key });
    return key;
  }

  /** Counted once the round's transaction committed (a rolled-back round delivers again). */
  private count(round: DeliveryRound): void {
    this.metrics.delivered(round.destination, round.delivered);
    if (round.failed > 0) this.metrics.deliveryFailed(round.destination);
  }
}
