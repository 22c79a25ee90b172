import { testKafkaConnection } from '@notifications/messaging/testing';
import { Kafka, logLevel, type Admin } from 'kafkajs';

/** The settings the CLI under test gets: the test broker, a client id of its own, and any extras. */
export function opsEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: testKafkaConnection().brokers.join(','),
    KAFKA_CLIENT_ID: 'test-ops',
    ...extra,
  };
}

/** A plain admin client for arranging and inspecting what the CLI did. */
export async function testAdmin(): Promise<Admin> {
  const admin = new Kafka({
    clientId: 'test-ops-admin',
    brokers: [...testKafkaConnection().brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

/** Deletes every topic whose name ends with `.<suffix>` or contains `.<suffix>.` (a suffixed deployment's). */
export async function deleteSuffixedTopics(admin: Admin, suffix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter(
    (name) => name.endsWith(`.${suffix}`) || name.includes(`.${suffix}.`),
  );
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
}
