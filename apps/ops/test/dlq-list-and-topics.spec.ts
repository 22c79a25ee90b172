import { randomBytes } from 'node:crypto';
import { topicCatalog } from '@notifications/contracts';
import { type DeadLetterTopicSummary } from '@notifications/messaging';
import { testKafkaConnection } from '@notifications/messaging/testing';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { type TopicCheck, type TopicsCreateReport } from '../src/topics/topics.service';
import { deleteSuffixedTopics, opsEnv, testAdmin } from './support/kafka-env';
import { runOps, runOpsJson } from './support/run-ops';

interface CheckResult {
  readonly topics: TopicCheck[];
  readonly problems: number;
}

/** A whole suffixed deployment's topics: provisioned by `topics create`, then counted by `dlq list`. */
describe('topics and dlq list', () => {
  const suffix = `ops-${randomBytes(4).toString('hex')}`;
  const catalog = topicCatalog(suffix);
  const env = opsEnv({
    KAFKA_TOPIC_SUFFIX: suffix,
    KAFKA_TOPIC_PARTITIONS: '1',
    KAFKA_TOPIC_RETENTION_MS: '1d',
  });
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    admin = await testAdmin();
    producer = new Kafka({
      clientId: 'test-ops',
      brokers: [...testKafkaConnection().brokers],
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (admin) {
      await deleteSuffixedTopics(admin, suffix);
      await admin.disconnect();
    }
  });

  it('reports missing topics, creates them as configured, then finds them as configured', async () => {
    const before = await runOpsJson<CheckResult>(['topics', 'check'], env, 1);
    expect(before.topics.every((topic) => topic.status === 'missing')).toBe(true);
    // Consumed topics with their retry and dead-letter topics, plus the two health-check topics.
    expect(before.topics.map((topic) => topic.topic)).toEqual(
      expect.arrayContaining([
        catalog.emailQueue.name,
        catalog.emailQueue.retryTopic,
        catalog.emailQueue.deadLetterTopic,
        catalog.healthCheck.name,
      ]),
    );
    expect(before.topics.map((topic) => topic.topic)).not.toContain(catalog.healthCheck.deadLetterTopic);

    const created = await runOpsJson<TopicsCreateReport>(['topics', 'create'], env);
    expect(created.created).toHaveLength(before.topics.length);
    expect(created.checks.every((topic) => topic.status === 'ok')).toBe(true);

    const after = await runOpsJson<CheckResult>(['topics', 'check'], env);
    expect(after.problems).toBe(0);
    expect(after.topics[0]).toMatchObject({ partitions: 1, replicationFactor: 1, retentionMs: 86_400_000 });

    // Configured differently than created: every topic is reported, with what differs.
    const stricter = await runOps(['topics', 'check'], { ...env, KAFKA_TOPIC_PARTITIONS: '3' });
    expect(stricter.code).toBe(1);
    expect(stricter.stdout).toMatch(/mismatch .*1 partitions, configured 3/);
  });

  it('counts the messages of every dead-letter topic, with the oldest and newest record time', async () => {
    const dlq = catalog.emailQueue.deadLetterTopic;
    const first = Date.now() - 60_000;
    await producer.send({
      topic: dlq,
      messages: [0, 1, 2].map((index) => ({
        key: `k${index}`,
        value: `v${index}`,
        timestamp: String(first + index * 1_000),
      })),
    });

    const list = await runOpsJson<DeadLetterTopicSummary[]>(['dlq', 'list'], env);
    const names = list.map((entry) => entry.topic);
    expect(names).toEqual(
      expect.arrayContaining([
        catalog.ordersPastDue.deadLetterTopic,
        catalog.emailSendingAccepted.deadLetterTopic,
        catalog.emailStatusUpdated.deadLetterTopic,
        catalog.platformServiceUpdated.deadLetterTopic,
        dlq,
      ]),
    );
    // Only this deployment's dead-letter topics (other suffixes and test topics are not listed).
    expect(names.every((name) => name.endsWith(`.deadletter.${suffix}`))).toBe(true);
    expect(list.find((entry) => entry.topic === dlq)).toEqual({
      topic: dlq,
      exists: true,
      partitions: 1,
      messages: 3,
      oldest: new Date(first).toISOString(),
      newest: new Date(first + 2_000).toISOString(),
    });
    expect(list.filter((entry) => entry.topic !== dlq).every((entry) => entry.messages === 0)).toBe(true);

    const table = await runOps(['dlq', 'list'], env);
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n').find((line) => line.startsWith(`${dlq} `));
    expect(row).toMatch(/\s3\s+1\s/);
    // Column-aligned: every line of the table starts its MESSAGES column at the same place.
    const lines = table.stdout.trim().split('\n');
    const column = lines[0]!.indexOf('MESSAGES');
    expect(lines.slice(2).every((line) => /\S/.test(line[column + 'MESSAGES'.length - 1] ?? ''))).toBe(true);
  });
});
