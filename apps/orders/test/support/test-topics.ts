import { topicCatalog, type TopicCatalog } from '@notifications/contracts';
import { type KafkaTestEnvironment } from '@notifications/messaging/testing';

/**
 * The real topics under a test's own KAFKA_TOPIC_SUFFIX, created (and later deleted) by the test environment:
 * the app under test, run with that suffix, reads and writes exactly these.
 */
export async function createTestTopics(
  env: KafkaTestEnvironment,
  suffix: string,
  partitions = 2,
): Promise<TopicCatalog> {
  const topics = topicCatalog(suffix);
  // One after the other: KafkaTestEnvironment's admin is created lazily, and concurrent first calls leak a
  // broker connection that keeps Jest from exiting.
  for (const topic of [
    topics.ordersPastDue,
    topics.emailQueue,
    topics.emailStatusUpdated,
    topics.platformServiceUpdated,
    topics.healthCheck,
    topics.ordersHalted,
    topics.emailWithheld,
  ])
    await env.createTopics(topic, partitions);
  return topics;
}

/** The topics orders consumes (each also with its retry and dead-letter topic). */
export function consumedTopics(topics: TopicCatalog): readonly (typeof topics)[keyof TopicCatalog][] {
  return [
    topics.ordersPastDue,
    topics.emailStatusUpdated,
    topics.platformServiceUpdated,
    topics.emailWithheld,
  ];
}
