import { type Kafka } from 'kafkajs';
import { createKafka, type KafkaConnectionOptions } from './connection';
import { ConsumerRunner, type ConsumerRunnerOptions, type HandlerRegistration } from './consumer-runner';
import { InstrumentationHub, type MessagingInstrumentation } from './instrumentation';
import { createConsoleLogger, type MessagingLogger } from './logger';
import { MessageProducer, type ProducerOptions } from './producer';
import { TopicFollower, type TopicFollowerOptions } from './topic-follower';
import { TopicProvisioner } from './topic-provisioner';

/**
 * The entry point apps (and tests, benchmarks) use: one connection config, one producer per process, and
 * consumers and provisioning built from the role-specific clients.
 */
export class KafkaRuntime {
  readonly producer: MessageProducer;
  readonly provisioner: TopicProvisioner;
  private readonly consumerKafka: Kafka;
  private readonly consumers: ConsumerRunner[] = [];
  private readonly followers: TopicFollower<unknown>[] = [];
  private readonly instrumentation = new InstrumentationHub();

  constructor(
    readonly connection: KafkaConnectionOptions,
    readonly logger: MessagingLogger = createConsoleLogger('messaging'),
    producerOptions: ProducerOptions = {},
  ) {
    this.producer = new MessageProducer(
      createKafka(connection, 'producer', logger),
      logger,
      producerOptions,
      this.instrumentation,
    );
    this.provisioner = new TopicProvisioner(createKafka(connection, 'admin', logger), logger);
    this.consumerKafka = createKafka(connection, 'consumer', logger);
  }

  /** Every consumer created by this runtime (for status and lag reporting). */
  get consumerRunners(): readonly ConsumerRunner[] {
    return this.consumers;
  }

  /**
   * Adds metrics or log-context hooks to the producer and to every consumer, including those already created
   * (hooks are looked up per message).
   */
  instrument(instrumentation: MessagingInstrumentation): void {
    this.instrumentation.add(instrumentation);
  }

  createConsumer(
    options: ConsumerRunnerOptions,
    registrations: readonly HandlerRegistration<unknown>[],
  ): ConsumerRunner {
    const consumer = new ConsumerRunner(
      this.consumerKafka,
      this.producer,
      this.logger,
      options,
      registrations,
      this.instrumentation,
    );
    this.consumers.push(consumer);
    return consumer;
  }

  /** A reader of a whole topic in this process, with a read-your-acknowledged-writes barrier (TopicFollower). */
  createTopicFollower<T>(options: TopicFollowerOptions<T>): TopicFollower<T> {
    const follower = new TopicFollower(this.consumerKafka, options, this.logger);
    this.followers.push(follower as TopicFollower<unknown>);
    return follower;
  }

  /** Stops consumers first (they may still publish retries), then flushes and closes the producer. */
  async shutdown(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await Promise.all(this.followers.map((follower) => follower.stop()));
    if (this.producer.isConnected) await this.producer.disconnect();
  }
}

/**
 * Checks that a handler fits its topic's payload type, then lets it join a list of handlers for other topics.
 * (A bare object literal in such a list would only be checked against `unknown`.)
 */
export function handlerFor<T>(registration: HandlerRegistration<T>): HandlerRegistration<unknown> {
  return registration;
}
