import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { type Pipeline } from '../test/support/pipeline';

export type SubscribeMode = 'http' | 'kafka';

/** What a subscriber received during one bulk run. */
export interface SubscriptionRunResult {
  readonly mode: SubscribeMode;
  readonly events: number;
  readonly eventsPerNotification: number;
  /** Deliveries (HTTP requests or Kafka records) the subscriber received. */
  readonly requests: number;
  /** From the last notification final until orders had delivered every recorded event (null: not drained). */
  readonly drainedAfterFinalSeconds: number | null;
}

/**
 * `--subscribe http|kafka`: one status subscription of the benchmark's creator covering every order (no filter,
 * both event types), and the subscriber at its other end, inside the benchmark process (its CPU is the "bench"
 * row, not the pipeline's): an HTTP endpoint on loopback answering 204 at once, or a plain kafkajs consumer of a
 * topic on the run's broker (a subscriber's own cluster would be another broker; here it shares the machine's).
 * It only counts what arrives — the tests check payloads, order and signatures; the benchmark measures cost.
 */
export class SubscriptionSink {
  private received = 0;
  private deliveries = 0;
  private server: http.Server | undefined;
  private consumer: Consumer | undefined;
  private subscriptionId: string | undefined;

  constructor(
    private readonly pipeline: Pipeline,
    readonly mode: SubscribeMode,
    private readonly maxEventsPerRequest: number,
  ) {}

  get eventsReceived(): number {
    return this.received;
  }

  get deliveriesReceived(): number {
    return this.deliveries;
  }

  async start(): Promise<void> {
    const notification =
      this.mode === 'http'
        ? { http: { url: await this.listen(), maxEventsPerRequest: this.maxEventsPerRequest } }
        : { kafka: { url: `kafka://${this.pipeline.kafkaBrokers}`, topic: await this.consume() } };
    const subscription = await this.pipeline.orders.createSubscription({
      description: 'pipeline benchmark',
      events: ['notification.status', 'order.completed'],
      notification,
    });
    this.subscriptionId = subscription.id;
  }

  /**
   * Events orders has recorded and not yet delivered, counted with `count` (the benchmark's own database connection,
   * whose reads are kept out of the pipeline's statistics) rather than through the API's `pendingEvents`.
   */
  async pending(count: (subscriptionId: string) => Promise<number>): Promise<number> {
    if (this.subscriptionId === undefined) throw new Error('no subscription');
    return count(this.subscriptionId);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    const server = this.server;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async listen(): Promise<string> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        this.received += Array.isArray(body) ? body.length : 1;
        this.deliveries += 1;
        response.writeHead(204).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/notify`;
  }

  private async consume(): Promise<string> {
    // Named with the run's suffix: the pipeline deletes the run's topics when it stops.
    const topic = `bench.subscriber.${this.pipeline.suffix}`;
    const kafka = new Kafka({
      clientId: 'bench-subscriber',
      brokers: this.pipeline.kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `bench-subscriber-${this.pipeline.suffix}` });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        this.received += batch.messages.length;
        this.deliveries += batch.messages.length;
      },
    });
    return topic;
  }
}
