import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  ConsumerLagService,
  DeadLetterService,
  isDeadLetterTopic,
  KafkaRoleClients,
  knownDeadLetterTopics,
} from '@notifications/messaging';
import { type OrdersConfig } from '../config/orders.config';
import { ORDERS_CONFIG } from '../config/tokens';

/**
 * The operator console's Kafka side, on the messaging lib's operator core (the ops CLI's `dlq` and `lag` use the
 * same): dead-letter topics and consumer lag of the deployment. Its clients connect on first use (a console that
 * is never opened costs no connection) and close with the app.
 */
@Injectable()
export class OperatorKafkaService implements OnApplicationShutdown {
  private clients: KafkaRoleClients | undefined;

  constructor(@Inject(ORDERS_CONFIG) private readonly config: OrdersConfig) {}

  /** A dead-letter service per request: it keeps per-read state (its reader group), the clients are shared. */
  deadLetters(): DeadLetterService {
    return new DeadLetterService(
      this.kafkaClients(),
      this.config.kafka.topicSuffix,
      this.config.console.kafkaReadTimeoutMs,
    );
  }

  lag(): { service: ConsumerLagService; groups: string[] } {
    const service = new ConsumerLagService(this.kafkaClients(), this.config.kafka.topicSuffix);
    return { service, groups: service.defaultGroups() };
  }

  /** Whether `topic` names a dead-letter topic of this deployment (the console touches no other topic). */
  isDeadLetterTopic(topic: string): boolean {
    const suffix = this.config.kafka.topicSuffix;
    return knownDeadLetterTopics(suffix).includes(topic) || isDeadLetterTopic(topic, suffix);
  }

  async onApplicationShutdown(): Promise<void> {
    const clients = this.clients;
    this.clients = undefined;
    await clients?.close();
  }

  private kafkaClients(): KafkaRoleClients {
    const { kafka } = this.config;
    this.clients ??= new KafkaRoleClients({
      brokers: kafka.brokers,
      clientId: `${kafka.clientId}-console`,
      ssl: kafka.ssl,
      ...(kafka.sasl === undefined ? {} : { sasl: kafka.sasl }),
    });
    return this.clients;
  }
}
