import { randomUUID } from 'node:crypto';
import { defineTopic, EmailContract, type Email } from '@notifications/contracts';
import {
  expectEventually,
  startIsolatedBroker,
  stopIsolatedBroker,
  userOf,
  type IsolatedBroker,
} from '@notifications/testing';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaRuntime,
  silentLogger,
  type KafkaConnectionOptions,
  type LogFields,
  type MessagingLogger,
  type SaslMechanism,
} from '../src';
import { testEmail } from './fixtures/email-messages';

const DAY_MS = 86_400_000;

/** A topic of this suite, inside the principals' ACL prefix. */
function notificationTopic(label: string) {
  const name = `altinn.notifications.test.sasl.${label}.${randomUUID().slice(0, 8)}`;
  return defineTopic<Email>({
    name,
    contract: EmailContract,
    keyOf: (email) => email.notificationId,
    retryTopic: `${name}.retry`,
    deadLetterTopic: `${name}.deadletter`,
  });
}

const topicNames = (topic: ReturnType<typeof notificationTopic>): string[] => [
  topic.name,
  topic.retryTopic as string,
  topic.deadLetterTopic,
];

function recordingLogger(): MessagingLogger & { warnings: { message: string; fields?: LogFields }[] } {
  const warnings: { message: string; fields?: LogFields }[] = [];
  return { ...silentLogger, warn: (message, fields) => warnings.push({ message, fields }), warnings };
}

async function elapsed(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected the operation to fail');
}

describe('Kafka SASL and ACLs (an isolated broker with the notification principals)', () => {
  let broker: IsolatedBroker | undefined;
  let setupAdmin: Admin | undefined;
  const runtimes: KafkaRuntime[] = [];

  function connection(
    mechanism: SaslMechanism = 'scram-sha-512',
    overrides: Partial<
      Record<'admin' | 'producer' | 'consumer', { username: string; password: string }>
    > = {},
  ): KafkaConnectionOptions {
    const started = broker as IsolatedBroker;
    return {
      brokers: [started.saslBrokers],
      clientId: `test-sasl-${mechanism}`,
      sasl: {
        mechanism,
        admin: overrides.admin ?? userOf(started, 'admin'),
        producer: overrides.producer ?? userOf(started, 'notifications-producer'),
        consumer: overrides.consumer ?? userOf(started, 'notifications-consumer'),
      },
    };
  }

  function runtime(options: KafkaConnectionOptions, logger: MessagingLogger = silentLogger): KafkaRuntime {
    const created = new KafkaRuntime(options, logger);
    runtimes.push(created);
    return created;
  }

  beforeAll(async () => {
    broker = await startIsolatedBroker('sasl-messaging');
    setupAdmin = new Kafka({
      clientId: 'test-sasl-setup',
      brokers: [broker.brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await setupAdmin.connect();
  }, 180_000);

  afterAll(async () => {
    // Each step on its own: a failed test or shutdown must never leave the broker running.
    await Promise.allSettled(runtimes.map((created) => created.shutdown()));
    await setupAdmin?.disconnect().catch(() => undefined);
    await stopIsolatedBroker(broker);
  }, 60_000);

  it.each<SaslMechanism>(['plain', 'scram-sha-256', 'scram-sha-512'])(
    'with %s, admin provisions, the producer writes and the consumer reads in its group',
    async (mechanism) => {
      const kafka = runtime(connection(mechanism));
      const topic = notificationTopic(mechanism);
      const received: Email[] = [];

      const report = await kafka.provisioner.ensureTopics(topicNames(topic), {
        partitions: 1,
        replicationFactor: 1,
        retentionMs: 7 * DAY_MS,
      });
      await kafka
        .createConsumer(
          { groupId: `altinn.notifications.test-sasl-${mechanism}-${randomUUID().slice(0, 8)}` },
          [{ topic, handle: async (email: Email) => void received.push(email) }],
        )
        .start();
      const email = testEmail();
      await kafka.producer.publish(topic, email);

      expect(report.created).toEqual(topicNames(topic));
      await expectEventually(() => expect(received).toEqual([email]));
    },
  );

  it.each(['admin', 'producer', 'consumer'] as const)(
    'a wrong %s password fails within seconds, naming the user',
    async (role) => {
      const options = connection('scram-sha-512');
      const username = options.sasl?.[role].username as string;
      const kafka = runtime(
        connection('scram-sha-512', { [role]: { username, password: 'wrong-password' } }),
      );
      const topic = notificationTopic(`wrong-${role}`);

      const attempt = {
        admin: () =>
          kafka.provisioner.ensureTopics(topicNames(topic), {
            partitions: 1,
            replicationFactor: 1,
            retentionMs: DAY_MS,
          }),
        producer: () => kafka.producer.connect(),
        consumer: () =>
          kafka
            .createConsumer({ groupId: 'altinn.notifications.test-sasl-wrong' }, [
              { topic, handle: async () => undefined },
            ])
            .start(),
      }[role];
      const { error, ms } = await elapsed(attempt);

      expect(error).toBeInstanceOf(KafkaAuthenticationError);
      expect((error as Error).message).toContain(
        `Kafka authentication failed for user "${username}" (${role} role`,
      );
      expect((error as Error).message).toMatch(/invalid credentials/i);
      expect(ms).toBeLessThan(5_000);
    },
  );

  it('refuses a producer writing outside its prefixes with an authorization error', async () => {
    const outside = `other.team.events.${randomUUID().slice(0, 8)}`;
    await setupAdmin?.createTopics({ topics: [{ topic: outside, numPartitions: 1 }], waitForLeaders: true });
    const kafka = runtime(connection());

    const { error, ms } = await elapsed(() =>
      kafka.producer.publishRaw(outside, { key: 'k', value: 'v', headers: {} }),
    );

    expect(error).toBeInstanceOf(KafkaAuthorizationError);
    expect((error as KafkaAuthorizationError).code).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect((error as Error).message).toContain(
      `user "notifications-producer" (producer role) may not write on ${outside}`,
    );
    expect(ms).toBeLessThan(5_000);
  });

  it('lets only the admin principal create topics, and only inside the prefixes', async () => {
    const inside = notificationTopic('create');
    const settings = { partitions: 1, replicationFactor: 1, retentionMs: DAY_MS };
    const producer = userOf(broker as IsolatedBroker, 'notifications-producer');
    const consumer = userOf(broker as IsolatedBroker, 'notifications-consumer');
    // Provisioners whose admin role is given another principal's credentials.
    const asProducer = runtime(connection('scram-sha-512', { admin: producer }));
    const asConsumer = runtime(connection('scram-sha-512', { admin: consumer }));
    const admin = runtime(connection());

    await expect(asProducer.provisioner.ensureTopics([inside.name], settings)).rejects.toThrow(
      `user "notifications-producer" (admin role) may not create topics on ${inside.name} (TOPIC_AUTHORIZATION_FAILED)`,
    );
    await expect(asConsumer.provisioner.ensureTopics([inside.name], settings)).rejects.toThrow(
      KafkaAuthorizationError,
    );
    await expect(admin.provisioner.ensureTopics(['other.team.created-by-admin'], settings)).rejects.toThrow(
      KafkaAuthorizationError,
    );
    const report = await admin.provisioner.ensureTopics([inside.name], settings);
    expect(report.created).toEqual([inside.name]);
  });

  it('warns about existing topics whose partitions, replication or retention differ from the configured ones', async () => {
    const topic = notificationTopic('drift');
    const logger = recordingLogger();
    const kafka = runtime(connection(), logger);
    await kafka.provisioner.ensureTopics([topic.name], {
      partitions: 2,
      replicationFactor: 1,
      retentionMs: 7 * DAY_MS,
    });

    const same = await kafka.provisioner.ensureTopics([topic.name], {
      partitions: 2,
      replicationFactor: 1,
      retentionMs: 7 * DAY_MS,
    });
    const production = await kafka.provisioner.ensureTopics([topic.name], {
      partitions: 3,
      replicationFactor: 1,
      retentionMs: 365 * DAY_MS,
    });

    expect(same.drift).toEqual([]);
    expect(production.drift).toEqual([
      { topic: topic.name, setting: 'partitions', actual: 2, configured: 3 },
      { topic: topic.name, setting: 'retention.ms', actual: 7 * DAY_MS, configured: 365 * DAY_MS },
    ]);
    expect(production.underPartitioned).toEqual([{ topic: topic.name, partitions: 2 }]);
    expect(production.unchecked).toBeUndefined();
    // (kafkajs' own warnings reach the same logger; only the provisioner's carry a setting)
    expect(logger.warnings.flatMap((warning) => warning.fields?.['setting'] ?? [])).toEqual([
      'partitions',
      'retention.ms',
    ]);
  });
});
