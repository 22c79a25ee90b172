import {
  EmailContract,
  GenericServiceUpdateContract,
  HealthCheckContract,
  NotificationOrderContract,
  SendOperationResultContract,
  Topics,
} from '@notifications/contracts';
import { type KafkaTestEnvironment } from '@notifications/testing';
import { type OrdersTopics } from '../../src/config/orders-topics';

/** Throw-away topics keyed like the real ones, created (and later deleted) by the test environment. */
export async function createTestTopics(env: KafkaTestEnvironment, partitions = 2): Promise<OrdersTopics> {
  const topics: OrdersTopics = {
    pastDue: env.defineTopic('pastdue', NotificationOrderContract, (order) =>
      Topics.ordersPastDue.keyOf(order),
    ),
    emailQueue: env.defineTopic('email', EmailContract, (email) => Topics.emailQueue.keyOf(email)),
    emailStatusUpdated: env.defineTopic('status', SendOperationResultContract, (result) =>
      Topics.emailStatusUpdated.keyOf(result),
    ),
    platformServiceUpdated: env.defineTopic('platform', GenericServiceUpdateContract, (update) =>
      Topics.platformServiceUpdated.keyOf(update),
    ),
    healthCheck: env.defineTopic('health', HealthCheckContract, () => undefined),
  };
  // One after the other: KafkaTestEnvironment's admin is created lazily, and concurrent first calls leak a
  // broker connection that keeps Jest from exiting.
  for (const topic of Object.values(topics)) await env.createTopics(topic, partitions);
  return topics;
}
