import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { EmailPublisherService, type PublishOutcome } from '../dispatch/email-publisher.service';
import { OutboxRelay } from '../dispatch/outbox.relay';
import { OrderClaimService } from '../intake/order-claim.service';
import { SubscriptionDeliveryService } from '../subscriptions/subscription-delivery.service';
import { SweeperService } from './sweeper.service';
import { TaskLoop, type TaskStatistics } from './task-loop';

export interface SchedulerStatistics {
  readonly running: boolean;
  readonly tasks: Record<string, TaskStatistics>;
  /** The last email-publishing outcome (e.g. paused until a reset time). */
  readonly lastEmailPublish?: PublishOutcome;
}

/**
 * The built-in scheduler (no external cron): claims due orders and New notifications, relays the outbox, and
 * sweeps. Every job is safe to run in several replicas at once (SKIP LOCKED claims). Started after the app has
 * bootstrapped, stopped first on shutdown — before the Kafka producer and the database close.
 */
@Injectable()
export class OrdersScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OrdersScheduler.name);
  private readonly loops = new Map<string, TaskLoop>();
  private readonly relays: TaskLoop[] = [];
  private readonly subscriptionDelivery: TaskLoop;
  private running = false;
  private lastEmailPublish: PublishOutcome | undefined;
  private emailPublishRuns = 0;

  constructor(
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    private readonly claims: OrderClaimService,
    private readonly emailPublisher: EmailPublisherService,
    private readonly relay: OutboxRelay,
    private readonly sweeper: SweeperService,
    private readonly subscriptions: SubscriptionDeliveryService,
  ) {
    const s = config.scheduler;
    this.add(
      new TaskLoop(
        {
          name: 'past-due orders',
          intervalMs: s.pastDueIntervalMs,
          run: async () => {
            const claimed = await this.claims.claimDueOrders();
            if (claimed > 0) this.triggerRelay();
            // A claim bounded by bytes may stop before its row bound with more due: look again at once.
            return claimed > 0;
          },
        },
        this.logger,
      ),
    );
    this.add(
      new TaskLoop(
        {
          name: 'email publishing',
          intervalMs: s.emailPublishIntervalMs,
          run: async () => {
            const outcome = await this.emailPublisher.publishBatch();
            this.lastEmailPublish = outcome;
            this.emailPublishRuns += 1;
            if (outcome.kind === 'claimed' && outcome.count > 0) this.triggerRelay();
            return outcome.kind === 'claimed' && outcome.more;
          },
        },
        this.logger,
      ),
    );
    for (let index = 0; index < s.outboxRelayConcurrency; index += 1) {
      const loop = new TaskLoop(
        {
          name: `outbox relay ${index + 1}`,
          intervalMs: s.outboxRelayIntervalMs,
          startDelayMs: s.relayStartDelayMs,
          run: async () => (await this.relay.relayBatch()).more,
        },
        this.logger,
      );
      this.relays.push(loop);
      this.add(loop);
    }
    // Starts rounds in the free delivery slots (SUBSCRIPTIONS_DELIVERY_CONCURRENCY) and returns: a slow destination
    // holds its slot, never this loop; a round that leaves events behind wakes it.
    this.subscriptionDelivery = new TaskLoop(
      {
        name: 'subscription delivery',
        intervalMs: config.subscriptions.deliveryIntervalMs,
        run: () => this.subscriptions.deliverDue(),
      },
      this.logger,
    );
    this.subscriptions.onMoreWork(() => this.subscriptionDelivery.trigger());
    this.add(this.subscriptionDelivery);
    this.add(
      new TaskLoop(
        {
          name: 'sweeper',
          intervalMs: s.sweepIntervalMs,
          run: async () => {
            await this.sweeper.sweep();
            return false;
          },
        },
        this.logger,
      ),
    );
  }

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) {
      this.logger.warn(
        'Scheduler disabled (ORDERS_SCHEDULER_ENABLED=false): no claims, relay or sweeps here',
      );
      return;
    }
    if (this.config.scheduler.relayStartDelayMs > 0) {
      this.logger.warn(`Outbox relay starts in ${this.config.scheduler.relayStartDelayMs} ms (test hook)`);
    }
    this.running = true;
    for (const loop of this.loops.values()) loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()));
    // Delivery rounds run beside the loop: let them commit (or roll back) before the database closes.
    await this.subscriptions.drain();
  }

  /** Wakes the relay loops now instead of at their next interval. */
  triggerRelay(): void {
    for (const loop of this.relays) loop.trigger();
  }

  /** Wakes the subscription delivery loop now (e.g. after an operator resumed a subscription). */
  triggerSubscriptionDelivery(): void {
    this.subscriptionDelivery.trigger();
  }

  /** How many times email publishing ran (tests wait for cycles instead of sleeping). */
  get emailPublishCycles(): number {
    return this.emailPublishRuns;
  }

  statistics(): SchedulerStatistics {
    return {
      running: this.running,
      tasks: Object.fromEntries([...this.loops].map(([name, loop]) => [name, loop.statistics()])),
      ...(this.lastEmailPublish === undefined ? {} : { lastEmailPublish: this.lastEmailPublish }),
    };
  }

  private add(loop: TaskLoop): void {
    this.loops.set(loop.name, loop);
  }
}
