import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HALT_PROPAGATION_MS, type OrderHalted } from '@notifications/contracts';
import { type TopicFollower } from '@notifications/messaging';

export interface HaltedOrdersOptions {
  /** EMAIL_MAX_MESSAGE_AGE_MS: how long a halt is remembered (see `HaltedOrders`). */
  readonly maxMessageAgeMs: number;
}

/** The reader of `orders.halted` (a TopicFollower whose `onMessage` calls `HaltedOrders.record`). */
export type HaltRecordReader = Pick<
  TopicFollower<OrderHalted>,
  'start' | 'stop' | 'caughtUpWithin' | 'offsetRequests'
>;

/**
 * How old this replica's view of `orders.halted` may be at a send: the protocol's window less a margin for the
 * two processes' clocks (monotonic, but not the same oscillator) and timer lateness.
 */
const HALT_VIEW_MAX_AGE_MS = HALT_PROPAGATION_MS * 0.8;

/**
 * The orders halted so far (apps/orders README, "Halt"), read from `orders.halted` by every replica: before each
 * send, `isHalted` makes sure this process has read that topic up to end offsets fetched less than
 * `HALT_VIEW_MAX_AGE_MS` ago (refreshed in the background; a send waits only when the view is older, e.g. after an
 * idle spell), so a halt Kafka acknowledged `HALT_PROPAGATION_MS` before the call is known. In memory, stateless
 * across restarts (the topic is read again from the beginning). A halt is forgotten `EMAIL_MAX_MESSAGE_AGE_MS`
 * after it was recorded: every email of the order was published before the halt, so by then each one is older
 * than that limit and never sent anyway.
 */
@Injectable()
export class HaltedOrders implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HaltedOrders.name);
  /** Order id → when it was halted (ms). */
  private readonly halted = new Map<string, number>();

  constructor(
    private readonly reader: HaltRecordReader,
    private readonly options: HaltedOrdersOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The follower's `onMessage`. */
  record(halt: OrderHalted): void {
    const orderId = halt.orderId.toLowerCase();
    if (!this.halted.has(orderId)) this.halted.set(orderId, Date.parse(halt.haltedAt));
    this.forgetExpired();
  }

  /**
   * Whether the order was halted, as far as halts acknowledged `HALT_PROPAGATION_MS` before this call go (throws
   * InfrastructureUnavailableError when it cannot know).
   */
  async isHalted(orderId: string): Promise<boolean> {
    await this.reader.caughtUpWithin(HALT_VIEW_MAX_AGE_MS);
    return this.halted.has(orderId.toLowerCase());
  }

  /** Halts known to this replica, and the ListOffsets requests its checks cost (for `/stats`). */
  snapshot(): { readonly haltedOrders: number; readonly offsetRequests: number } {
    return { haltedOrders: this.halted.size, offsetRequests: this.reader.offsetRequests };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reader.start();
    this.logger.log('Reading halted orders (orders.halted)');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader.stop();
  }

  private forgetExpired(): void {
    const horizon = this.now() - this.options.maxMessageAgeMs;
    // A handful of halts a day: a full pass per record costs nothing.
    for (const [orderId, haltedAt] of this.halted) if (haltedAt < horizon) this.halted.delete(orderId);
  }
}
