import { ContractViolationError, EmailContract, type Email } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import { KafkaRuntime, silentLogger } from '../src';
import { testEmail } from './fixtures/email-messages';

describe('MessageProducer against a real broker', () => {
  let env: KafkaTestEnvironment;
  let runtime: KafkaRuntime;

  beforeEach(() => {
    env = new KafkaTestEnvironment('producer');
    runtime = new KafkaRuntime(env.connection, silentLogger, { maxBatchMessages: 50 });
  });

  afterEach(async () => {
    await runtime.shutdown();
    await env.cleanup();
  });

  it('keeps the order of concurrent publishes for one key across coalesced requests, keyed by notification id', async () => {
    const topic = env.defineTopic('order', EmailContract, (email: Email) => email.notificationId);
    await env.createTopics(topic, 3);
    const first = testEmail();
    const sameKey = Array.from({ length: 300 }, (_, index) => ({ ...first, subject: `message ${index}` }));
    const others = Array.from({ length: 100 }, () => testEmail());
    const records = await env.read([topic.name]);

    // All publishes are issued at once; the producer splits them into requests of at most 50 messages.
    await Promise.all([...sameKey, ...others].map((email) => runtime.producer.publish(topic, email)));

    await expectEventually(() => expect(records).toHaveLength(400));
    const ofKey = records.filter((record) => record.key === first.notificationId);
    expect(ofKey.map((record) => EmailContract.parse(record.value).subject)).toEqual(
      sameKey.map((email) => email.subject),
    );
    expect(new Set(ofKey.map((record) => record.partition)).size).toBe(1);
    expect(records.every((record) => record.key === EmailContract.parse(record.value).notificationId)).toBe(
      true,
    );
  });

  it('refuses a message that breaks the contract before it reaches Kafka', async () => {
    const topic = env.defineTopic('invalid', EmailContract, (email: Email) => email.notificationId);
    await env.createTopics(topic, 1);
    const broken = { ...testEmail(), contentType: 'Markdown' } as unknown as Email;

    await expect(runtime.producer.publish(topic, broken)).rejects.toThrow(ContractViolationError);
    expect(await env.messageCount(topic.name)).toBe(0);
  });
});
