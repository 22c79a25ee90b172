import { createHash } from 'node:crypto';
import net, { isIP } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { maskPersonalData } from '@notifications/messaging';
import {
  type ISocketFactory,
  Kafka,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { normaliseHost } from '../domain/address-policy';
import { parseKafkaUrl } from '../domain/subscription.model';
import {
  type KafkaDestinationSettings,
  type KafkaEventRecord,
  type KafkaEventSender,
} from './kafka-event-sender';
import { OUTBOUND_REFUSED_CODE, OutboundGuard, type OutboundRefusedError } from './outbound-guard';

/** Why a delivery into a subscriber's cluster failed, in words fit for `lastFailureReason` (never a secret). */
export class KafkaDeliveryError extends Error {
  override readonly name = 'KafkaDeliveryError';

  constructor(
    readonly reason: string,
    /** The outbound guard refused the destination: only a new allow-list or destination can change that. */
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}

export interface KafkaDestinationPoolOptions {
  /** Producers kept at once; beyond it the least recently used one is disconnected. */
  readonly maxProducers: number;
  /** A producer unused this long is disconnected. */
  readonly idleMs: number;
  /** One `send` ends within this time (connecting, retries and the acknowledgement included). */
  readonly deliveryTimeoutMs: number;
  readonly clientId?: string;
}

/** What the pool did, for tests and metrics. */
export interface KafkaDestinationPoolStats {
  /** Producers open now. */
  readonly producers: number;
  /** Producers created since start (each one is a new set of connections). */
  readonly producersCreated: number;
  /** TCP (or TLS) connections to brokers that the guard let through and that connected. */
  readonly connectionsOpened: number;
  /** Of those, the ones not closed yet. */
  readonly openConnections: number;
}

interface PooledProducer {
  readonly key: string;
  readonly producer: Producer;
  /** The connect of the first send, shared by the sends that overlap it. */
  connected?: Promise<void>;
  inFlight: number;
  idleTimer?: NodeJS.Timeout;
  /** Out of the pool (evicted, idle or failed): disconnected once its last send ends. */
  retired: boolean;
  /** The guard's last refusal for a connection of this producer (kafkajs keeps only the message). */
  refusal?: string;
}

/** What the pool keys producers by: the same cluster reached as the same principal over the same TLS settings. */
function clusterKey(brokers: readonly string[], destination: KafkaDestinationSettings): string {
  const identity = {
    brokers: [...new Set(brokers)].sort(),
    sasl: destination.sasl ?? null,
    tls: destination.tls === undefined ? null : destination.tls,
  };
  // Hashed: the key holds the password, and keys may be looked at (a debugger, a heap dump's strings).
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

function saslOf(destination: KafkaDestinationSettings): SASLOptions | undefined {
  const sasl = destination.sasl;
  if (sasl === undefined) return undefined;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password };
  }
}

function tlsOf(destination: KafkaDestinationSettings): boolean | ConnectionOptions {
  const settings = destination.tls;
  // `{}` is the API's `tls: true`: TLS with the system's trusted CAs.
  if (settings === undefined) return false;
  return {
    ...(settings.ca === undefined ? {} : { ca: settings.ca }),
    rejectUnauthorized: settings.rejectUnauthorized ?? true,
  };
}

/** Records by topic, in the order of their first record; each topic's records keep their order. */
function byTopic(records: readonly KafkaEventRecord[]): { topic: string; messages: Message[] }[] {
  const topics = new Map<string, Message[]>();
  for (const record of records) {
    let messages = topics.get(record.topic);
    if (messages === undefined) topics.set(record.topic, (messages = []));
    messages.push({ key: record.key, value: record.value, headers: { ...record.headers } });
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

interface ErrorNode {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly broker?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** The error and everything it wraps (kafkajs nests causes and aggregates per-partition errors). */
function* errorTree(error: unknown, depth = 0): Generator<ErrorNode> {
  if (typeof error !== 'object' || error === null || depth > 8) return;
  const node = error as ErrorNode;
  yield node;
  yield* errorTree(node.cause, depth + 1);
  if (Array.isArray(node.errors)) for (const inner of node.errors) yield* errorTree(inner, depth + 1);
}

const CONNECTION_ERROR_PREFIX = /^(Connection error|Failed to connect): /;

/**
 * Every subscriber cluster orders writes to, as a {@link KafkaEventSender}: one long-lived kafkajs producer per
 * cluster (brokers + SASL identity + TLS settings; a changed password is another producer), created at its first
 * send and reused, at most `maxProducers` of them (the least recently used is disconnected beyond it), and
 * disconnected after `idleMs` without a send. kafkajs has no `connections.max.idle.ms` (the Java client's idle
 * socket reaper), so idleness is a timer here, and it closes the whole producer: a producer that stays in the pool
 * keeps its sockets.
 *
 * Every socket goes through the outbound guard: the producers' `socketFactory` checks IP literals against the
 * policy and gives net/tls the guard's `lookup` for names. The bootstrap brokers and every broker the cluster's
 * metadata names later (advertised listeners a subscriber controls) are connected to through it, so a cluster
 * cannot point orders at an internal address.
 *
 * A send that fails discards its producer (disconnected once its other sends end): the next send starts from a fresh connect
 * instead of a kafkajs client in an unknown state after a timeout or a dead broker; failures are rare and the
 * delivery engine backs off between attempts.
 */
export class KafkaDestinationPool implements KafkaEventSender, OnApplicationShutdown {
  private readonly logger = new Logger(KafkaDestinationPool.name);
  /** In least recently used first order: a Map iterates in insertion order and `acquire` re-inserts. */
  private readonly producers = new Map<string, PooledProducer>();
  /** Sends under way and disconnects under way: `close` waits for both. */
  private readonly deliveries = new Set<Promise<void>>();
  private readonly closing = new Set<Promise<void>>();
  private producersCreated = 0;
  private connectionsOpened = 0;
  private openConnections = 0;
  private closed = false;

  constructor(
    private readonly guard: OutboundGuard,
    private readonly options: KafkaDestinationPoolOptions,
  ) {}

  get stats(): KafkaDestinationPoolStats {
    return {
      producers: this.producers.size,
      producersCreated: this.producersCreated,
      connectionsOpened: this.connectionsOpened,
      openConnections: this.openConnections,
    };
  }

  async send(destination: KafkaDestinationSettings, records: readonly KafkaEventRecord[]): Promise<void> {
    if (this.closed) throw new KafkaDeliveryError('the Kafka destination pool is shut down', false);
    const delivery = this.deliver(destination, records);
    this.deliveries.add(delivery);
    try {
      await delivery;
    } finally {
      this.deliveries.delete(delivery);
    }
  }

  /** Disconnects every producer once the sends under way have ended (each within its timeout); later sends fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of [...this.producers.values()]) this.retire(entry);
    await Promise.allSettled([...this.deliveries]);
    await Promise.all([...this.closing]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private async deliver(
    destination: KafkaDestinationSettings,
    records: readonly KafkaEventRecord[],
  ): Promise<void> {
    if (records.length === 0) return;
    const brokers = this.brokersOf(destination);
    const entry = this.acquire(brokers, destination);
    entry.inFlight += 1;
    clearTimeout(entry.idleTimer);
    let deadline: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        deadline = setTimeout(
          () =>
            reject(
              new KafkaDeliveryError(`no acknowledgement within ${this.options.deliveryTimeoutMs} ms`, false),
            ),
          this.options.deliveryTimeoutMs,
        );
      });
      const produced = this.produce(entry, records);
      // Once the deadline has won, a later failure of the abandoned write must not be an unhandled rejection.
      produced.catch(() => undefined);
      await Promise.race([produced, timedOut]);
    } catch (error) {
      this.retire(entry);
      throw this.explain(error, entry, records);
    } finally {
      clearTimeout(deadline);
      entry.inFlight -= 1;
      this.settle(entry);
    }
  }

  private brokersOf(destination: KafkaDestinationSettings): readonly string[] {
    const parsed = parseKafkaUrl(destination.url);
    if (!parsed.ok) throw new KafkaDeliveryError(`the destination URL ${parsed.reason}`, true);
    return parsed.brokers;
  }

  private async produce(entry: PooledProducer, records: readonly KafkaEventRecord[]): Promise<void> {
    entry.connected ??= entry.producer.connect();
    await entry.connected;
    await entry.producer.sendBatch({
      topicMessages: byTopic(records),
      acks: -1,
      timeout: this.options.deliveryTimeoutMs,
    });
  }

  /** The pooled producer for this cluster, now the most recently used; created (not yet connected) if absent. */
  private acquire(brokers: readonly string[], destination: KafkaDestinationSettings): PooledProducer {
    const key = clusterKey(brokers, destination);
    const existing = this.producers.get(key);
    if (existing !== undefined) {
      this.producers.delete(key);
      this.producers.set(key, existing);
      return existing;
    }
    while (this.producers.size >= this.options.maxProducers) {
      const [leastRecent] = this.producers.values();
      if (leastRecent === undefined) break;
      this.retire(leastRecent);
    }
    const entry: PooledProducer = {
      key,
      inFlight: 0,
      retired: false,
      producer: this.createProducer(brokers, destination, (refusal) => {
        entry.refusal = refusal;
      }),
    };
    this.producers.set(key, entry);
    this.producersCreated += 1;
    return entry;
  }

  private createProducer(
    brokers: readonly string[],
    destination: KafkaDestinationSettings,
    onRefused: (reason: string) => void,
  ): Producer {
    const sasl = saslOf(destination);
    const timeoutMs = this.options.deliveryTimeoutMs;
    const kafka = new Kafka({
      clientId: this.options.clientId ?? 'altinn-notifications-subscriptions',
      brokers: [...brokers],
      ssl: tlsOf(destination),
      ...(sasl === undefined ? {} : { sasl }),
      socketFactory: this.guardedSocketFactory(onRefused),
      connectionTimeout: Math.min(timeoutMs, 5_000),
      requestTimeout: timeoutMs,
      // Few: the delivery engine retries a failed delivery with back-off, and a send must end within its timeout.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.log(entry),
    });
    return kafka.producer({
      // A subscriber's cluster may not grant IDEMPOTENT_WRITE; one request in flight keeps kafkajs' retries from
      // reordering an order's events instead (the receiver de-duplicates redeliveries by eventId).
      idempotent: false,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Named, which also silences kafkajs' start-up notice: the Java client's murmur2 partitioning, so an order's
      // key lands on the partition the subscriber's own Java producers would choose.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
    });
  }

  /**
   * kafkajs' default socket factory with the guard in front: an IP literal (net never calls `lookup` for one) is
   * checked against the policy before any socket exists; a name connects through the guard's `lookup`.
   */
  private guardedSocketFactory(onRefused: (reason: string) => void): ISocketFactory {
    return ({ host, port, ssl, onConnect }) => {
      const refused = (refusal: OutboundRefusedError) =>
        onRefused(`refused by the outbound guard: broker ${host}:${port}: ${refusal.message}`);
      if (OutboundGuard.isAddress(host)) {
        const refusal = this.guard.refusalOfAddress(normaliseHost(host));
        if (refusal !== undefined) {
          refused(refusal);
          // kafkajs turns a throw here into a failed connect ("Failed to connect: …").
          throw refusal;
        }
      }
      const lookup = this.guard.lookupFunction(refused);
      const connected = () => {
        this.connectionsOpened += 1;
        this.openConnections += 1;
        socket.once('close', () => (this.openConnections -= 1));
        onConnect();
      };
      const socket = ssl
        ? tls.connect(
            { host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...ssl, lookup },
            connected,
          )
        : net.connect({ host, port, lookup }, connected);
      socket.setKeepAlive(true, 60_000);
      return socket;
    };
  }

  /** Out of the pool; disconnected as soon as no send uses it. */
  private retire(entry: PooledProducer): void {
    if (this.producers.get(entry.key) === entry) this.producers.delete(entry.key);
    entry.retired = true;
    clearTimeout(entry.idleTimer);
    this.settle(entry);
  }

  /** After a send (or retirement): disconnect a retired producer no send uses, or start an idle one's timer. */
  private settle(entry: PooledProducer): void {
    if (entry.inFlight > 0) return;
    if (entry.retired) {
      if (entry.connected === undefined) return;
      entry.connected = undefined;
      const disconnect = entry.producer.disconnect().catch((error: unknown) => {
        this.logger.warn(`Disconnecting from a subscriber's Kafka cluster failed: ${describe(error)}`);
      });
      this.closing.add(disconnect);
      void disconnect.finally(() => this.closing.delete(disconnect));
      return;
    }
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => this.retire(entry), this.options.idleMs);
    entry.idleTimer.unref();
  }

  private explain(
    error: unknown,
    entry: PooledProducer,
    records: readonly KafkaEventRecord[],
  ): KafkaDeliveryError {
    if (error instanceof KafkaDeliveryError) return error;
    const nodes = [...errorTree(error)];
    const topics = [...new Set(records.map((record) => record.topic))].join(', ');
    if (
      entry.refusal !== undefined &&
      nodes.some(
        (node) =>
          node.code === OUTBOUND_REFUSED_CODE ||
          (typeof node.message === 'string' && CONNECTION_ERROR_PREFIX.test(node.message)),
      )
    ) {
      return new KafkaDeliveryError(entry.refusal, true, { cause: error });
    }
    for (const node of nodes) {
      if (node.name === 'KafkaJSSASLAuthenticationError' || node.type === 'SASL_AUTHENTICATION_FAILED') {
        return new KafkaDeliveryError('SASL authentication failed', false, { cause: error });
      }
      if (node.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
        return new KafkaDeliveryError(`topic ${topics} does not exist`, false, { cause: error });
      }
      if (typeof node.type === 'string' && node.type.endsWith('_AUTHORIZATION_FAILED')) {
        return new KafkaDeliveryError(`not authorised to write to ${topics} (${node.type})`, false, {
          cause: error,
        });
      }
    }
    const timeout = nodes.find((node) => node.name === 'KafkaJSRequestTimeoutError');
    if (timeout !== undefined) {
      return new KafkaDeliveryError(
        `broker ${String(timeout.broker)} did not answer within ${this.options.deliveryTimeoutMs} ms`,
        false,
        { cause: error },
      );
    }
    // KafkaJSConnectionError and KafkaJSConnectionClosedError (a broker that went away mid-request).
    const connection = nodes.find(
      (node) =>
        typeof node.name === 'string' &&
        node.name.startsWith('KafkaJSConnection') &&
        node.broker !== undefined,
    );
    if (connection !== undefined) {
      const detail = String(connection.message).replace(CONNECTION_ERROR_PREFIX, '');
      return new KafkaDeliveryError(
        `broker ${String(connection.broker)} unreachable (${maskPersonalData(detail)})`,
        false,
        { cause: error },
      );
    }
    return new KafkaDeliveryError(`the write failed: ${maskPersonalData(describe(error))}`, false, {
      cause: error,
    });
  }

  /**
   * kafkajs' warnings and errors, at warn: a subscriber's cluster that fails is the subscription's state (the
   * delivery engine records it), not an error of ours. The message only: kafkajs' extra fields can carry request
   * payloads. Per-request "Response …" entries are broker answers the send reports anyway.
   */
  private log({ namespace, log }: LogEntry): void {
    if (namespace === 'Connection' && log.message.startsWith('Response ')) return;
    const broker = typeof log['broker'] === 'string' ? ` (broker ${log['broker']})` : '';
    this.logger.warn(
      maskPersonalData(`Subscriber Kafka cluster, kafkajs ${namespace}: ${log.message}${broker}`),
    );
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nodes = [...errorTree(error)];
  const innermost = nodes.at(-1);
  return typeof innermost?.message === 'string' ? innermost.message : error.message;
}
