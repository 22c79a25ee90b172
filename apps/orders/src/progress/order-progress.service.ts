import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { ACS_EMAIL_RESOURCE, isFinalOrderStatus } from '@notifications/contracts';
import { errorMessage } from '../domain/dependency-unavailable.error';
import { progressSnapshot, sameProgress, type OrderProgressSnapshot } from '../domain/order-progress';
import { type OrdersConfig } from '../config/orders.config';
import { ORDERS_CONFIG } from '../config/tokens';
import { OrderProgressRepository } from '../store/order-progress.repository';
import { UnitOfWork } from '../store/unit-of-work';

/** A snapshot with the version its SSE event carries as `id:`. */
export interface ProgressEvent {
  /** Increases with every change of the order's progress (milliseconds of the latest change it reflects). */
  readonly version: number;
  readonly snapshot: OrderProgressSnapshot;
}

/** Who opens a stream: the order's creator (scoped) or an operator (every order). */
export interface ProgressWatcher {
  /** Only this creator's order, or any order when undefined (operators). */
  readonly creator: string | undefined;
  /** Streams are counted per key against the per-caller limit (an organisation, or all operators together). */
  readonly key: string;
}

/** What a stream does with the events of its order. */
export interface ProgressListener {
  /** Sends one event; false when the client cannot take it now (a newer one is offered on the next tick). */
  event(event: ProgressEvent, isLast: boolean): boolean;
  /** The order is final (its last event was sent) or the app stops: end the response. */
  end(): void;
}

/** An open stream; closing it (on disconnect) is idempotent. */
export interface ProgressStream {
  close(): void;
}

export class ProgressStreamLimitError extends Error {
  constructor(
    /** `process`: the process's limit (503); `caller`: the caller's own (429). */
    readonly scope: 'process' | 'caller',
    readonly limit: number,
  ) {
    super(
      scope === 'process'
        ? `This server already serves ${limit} progress streams; try again shortly.`
        : `At most ${limit} progress streams may be open at once per caller.`,
    );
  }
}

interface Subscriber {
  readonly listener: ProgressListener;
  /** The version the client has (its Last-Event-ID, then each event sent). */
  lastVersion: number;
  lastSentAt: number;
  /** A throttled delivery waiting for its turn. */
  pending?: NodeJS.Timeout;
  ended: boolean;
}

/**
 * Progress snapshots of orders, and live streams of them. Every stream of one order shares one poll loop (a
 * watch): one query per poll interval per watched order however many clients watch it (and fewer for a large
 * order: ORDERS_PROGRESS_MAX_ROWS_PER_SECOND), no query at all for an order nobody watches, and the loop stops
 * with its last stream or when the order is final. The number of watches is bounded by the stream limits.
 */
@Injectable()
export class OrderProgressService implements OnModuleDestroy {
  private readonly logger = new Logger(OrderProgressService.name);
  private readonly watches = new Map<string, OrderWatch>();
  private readonly streamsPerCaller = new Map<string, number>();
  private openStreams = 0;
  private stopped = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly progress: OrderProgressRepository,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  /** The order's current snapshot; undefined when there is no such order (of `creator`, when given). */
  async snapshot(orderId: string, creator: string | undefined): Promise<OrderProgressSnapshot | undefined> {
    return (await this.read(orderId, creator))?.snapshot;
  }

  /**
   * Opens a stream of the order's snapshots for `listener`, starting after `lastEventId` (a reconnecting client's
   * Last-Event-ID: what it already has is not sent again). Undefined when there is no such order; throws
   * ProgressStreamLimitError beyond the stream limits.
   */
  async open(
    orderId: string,
    watcher: ProgressWatcher,
    lastEventId: number | undefined,
    listener: ProgressListener,
  ): Promise<ProgressStream | undefined> {
    const release = this.reserve(watcher.key);
    let subscriber: Subscriber | undefined;
    let watch: OrderWatch | undefined;
    const stream: ProgressStream = {
      close: () => {
        release();
        if (subscriber !== undefined && watch !== undefined) watch.unsubscribe(subscriber);
      },
    };
    try {
      // The creator's check: a stream of another organisation's order is a 404 like every order route.
      const first = await this.read(orderId, watcher.creator);
      if (first === undefined || this.stopped) {
        release();
        return undefined;
      }
      watch = this.watches.get(orderId);
      if (watch === undefined) {
        const created: OrderWatch = new OrderWatch(
          orderId,
          () => this.read(orderId, undefined),
          this.tickMs(),
          this.minEventIntervalMs(),
          this.config.progress.maxRowsPerSecond,
          // Only this watch's own entry: a later watch of the same order may have taken its place.
          () => this.watches.get(orderId) === created && this.watches.delete(orderId),
          this.logger,
        );
        this.watches.set(orderId, created);
        created.offer(first);
        watch = created;
      }
      subscriber = { listener, lastVersion: lastEventId ?? -1, lastSentAt: 0, ended: false };
      watch.subscribe(subscriber);
      return stream;
    } catch (error) {
      stream.close();
      throw error;
    }
  }

  /** Open streams and watched orders of this process (tests, `/internal/status`). */
  activity(): { streams: number; watchedOrders: number } {
    return { streams: this.openStreams, watchedOrders: this.watches.size };
  }

  onModuleDestroy(): void {
    // Open streams would keep the HTTP server from closing: end them (clients reconnect to another replica).
    this.stopped = true;
    for (const watch of [...this.watches.values()]) watch.endAll();
    this.watches.clear();
  }

  /** The interval of the poll loops: the poll setting, but no faster than events may be sent. */
  private tickMs(): number {
    return Math.max(this.config.progress.pollIntervalMs, this.minEventIntervalMs());
  }

  /** Minimum spacing of two events of one stream. */
  private minEventIntervalMs(): number {
    return Math.ceil(1000 / this.config.progress.maxEventsPerSecond);
  }

  private reserve(key: string): () => void {
    const { maxStreams, maxStreamsPerCaller } = this.config.progress;
    if (this.openStreams >= maxStreams) throw new ProgressStreamLimitError('process', maxStreams);
    const mine = this.streamsPerCaller.get(key) ?? 0;
    if (mine >= maxStreamsPerCaller) throw new ProgressStreamLimitError('caller', maxStreamsPerCaller);
    this.openStreams += 1;
    this.streamsPerCaller.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.openStreams -= 1;
      const left = (this.streamsPerCaller.get(key) ?? 1) - 1;
      if (left === 0) this.streamsPerCaller.delete(key);
      else this.streamsPerCaller.set(key, left);
    };
  }

  private async read(orderId: string, creator: string | undefined): Promise<ProgressRead | undefined> {
    const { rateWindowMs } = this.config.progress;
    const row = await this.progress.read(
      this.uow.autoCommit,
      orderId,
      creator,
      ACS_EMAIL_RESOURCE,
      rateWindowMs,
    );
    if (row === undefined) return undefined;
    return {
      snapshot: progressSnapshot({ orderId, ...row }, rateWindowMs),
      changedAtMs: row.lastChangeAt.getTime(),
    };
  }
}

interface ProgressRead {
  readonly snapshot: OrderProgressSnapshot;
  /** The latest change in the store the snapshot reflects. */
  readonly changedAtMs: number;
}

/** The one poll loop of a watched order and its subscribers. */
class OrderWatch {
  private latest: ProgressEvent | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly orderId: string,
    private readonly readProgress: () => Promise<ProgressRead | undefined>,
    private readonly tickMs: number,
    /** Minimum spacing of two events of one stream (the throttle). */
    private readonly minEventIntervalMs: number,
    private readonly maxRowsPerSecond: number,
    private readonly onDone: () => void,
    private readonly logger: Logger,
  ) {}

  /** Takes a new read; when it tells something new, it becomes the latest event (with a higher version). */
  offer(read: ProgressRead): void {
    const previous = this.latest;
    if (previous !== undefined && sameProgress(previous.snapshot, read.snapshot)) return;
    // The store's change time keeps versions comparable across watches (a reconnect may reach a new one, or
    // another replica); +1 keeps them increasing when the news is a rate that fell, not a stored change.
    const version = Math.max(read.changedAtMs, (previous?.version ?? -1) + 1);
    this.latest = { version, snapshot: read.snapshot };
  }

  subscribe(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
    this.deliver(subscriber);
    if (this.isFinal()) return this.finish();
    if (this.timer === undefined && !this.done) this.schedule();
  }

  unsubscribe(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    clearTimeout(subscriber.pending);
    if (this.subscribers.size === 0) this.stop();
  }

  /** Ends every stream now (the app stops). */
  endAll(): void {
    for (const subscriber of this.subscribers) this.end(subscriber);
    this.stop();
  }

  private isFinal(): boolean {
    return this.latest !== undefined && isFinalOrderStatus(this.latest.snapshot.orderStatus);
  }

  private schedule(): void {
    // A large order is read less often: each read counts every one of its notifications.
    const total = this.latest?.snapshot.total ?? 0;
    const delayMs = Math.max(this.tickMs, Math.ceil((total / this.maxRowsPerSecond) * 1000));
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    try {
      const read = await this.readProgress();
      if (this.done) return;
      if (read === undefined) {
        // The order was deleted (retention): nothing more will come.
        this.endAll();
        return;
      }
      this.offer(read);
      for (const subscriber of this.subscribers) this.deliver(subscriber);
      if (this.isFinal()) return this.finish();
    } catch (error) {
      // A database hiccup: the streams stay open and the next tick tries again.
      this.logger.warn(`Progress of order ${this.orderId} could not be read: ${errorMessage(error)}`);
    }
    if (!this.done) this.schedule();
  }

  /** The order is final: each stream gets the final snapshot (after its throttle) and ends. */
  private finish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.done = true;
    this.onDone();
    for (const subscriber of this.subscribers) {
      if (subscriber.pending === undefined) this.deliver(subscriber);
    }
  }

  /** Sends the latest event when the subscriber lacks it, no sooner than the throttle allows. */
  private deliver(subscriber: Subscriber): void {
    const latest = this.latest;
    if (latest === undefined || subscriber.ended || subscriber.pending !== undefined) return;
    const final = isFinalOrderStatus(latest.snapshot.orderStatus);
    if (latest.version <= subscriber.lastVersion) {
      // The client has it already (Last-Event-ID); a final order has nothing more to send.
      if (final) this.end(subscriber);
      return;
    }
    const wait = subscriber.lastSentAt + this.minEventIntervalMs - Date.now();
    if (wait > 0) {
      // Too soon after the previous event: the latest one (whatever it is by then) goes out when allowed.
      subscriber.pending = setTimeout(() => {
        subscriber.pending = undefined;
        this.deliver(subscriber);
      }, wait);
      return;
    }
    if (!subscriber.listener.event(latest, final) && !final) return;
    subscriber.lastVersion = latest.version;
    subscriber.lastSentAt = Date.now();
    if (final) this.end(subscriber);
  }

  private end(subscriber: Subscriber): void {
    if (subscriber.ended) return;
    subscriber.ended = true;
    clearTimeout(subscriber.pending);
    subscriber.listener.end();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.done) {
      this.done = true;
      this.onDone();
    }
  }
}
