import { randomUUID } from 'node:crypto';
import {
  type AcsEmulatorProcess,
  arbitraryRecords,
  expectEventually,
  fuzzSeed,
} from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import { sendEmail, startEmulator } from './support/acs-emulator';
import { TestKafka } from './support/kafka';
import { acceptedRecord, resultFields, resultsOf } from './support/messages';
import { StatusPollerApp, TEST_SCHEDULE_ENV, uniqueSuffix } from './support/status-poller-app';

// Property-based: arbitrary bytes and arbitrary JSON on every topic status-poller consumes (sending.accepted,
// its retry topic and its delay tiers) are each dead-lettered, the poller keeps running and still checks a valid
// operation afterwards. The records are drawn from a seed the test's name shows (FUZZ_SEED=<seed> repeats a run).
const SEED = fuzzSeed();
const RECORDS_PER_TOPIC = 25;

describe(`status-poller consumer on arbitrary records (seed ${SEED})`, () => {
  const suffix = uniqueSuffix('fuzz');
  const producer = new KafkaTestEnvironment('status-poller-fuzz');
  let emulator: AcsEmulatorProcess;
  let kafka: TestKafka;
  let poller: StatusPollerApp;

  beforeAll(async () => {
    emulator = await startEmulator();
    kafka = new TestKafka();
    poller = await StatusPollerApp.start(
      {
        ...TEST_SCHEDULE_ENV,
        KAFKA_TOPIC_SUFFIX: suffix,
        ACS_CONNECTION_STRING: emulator.connectionString(),
      },
      kafka,
    );
  });

  afterAll(async () => {
    await poller?.close();
    await kafka?.deleteTopics(suffix);
    await kafka?.close();
    await producer.cleanup();
    await emulator?.stop();
  });

  it('dead-letters every arbitrary record on every consumed topic, and still checks a valid operation', async () => {
    const { topics } = poller;
    const records = await kafka.read([topics.emailStatusUpdated.name], suffix);
    const consumed = [topics.emailSendingAccepted, ...topics.delayTiers.tiers.map((tier) => tier.topic)];
    const expected = new Map<string, number>();
    let draw = SEED;
    for (const topic of consumed) {
      for (const name of [topic.name, ...(topic.retryTopic === undefined ? [] : [topic.retryTopic])]) {
        await producer.produceRaw(name, arbitraryRecords(RECORDS_PER_TOPIC, draw++));
        expected.set(topic.deadLetterTopic, (expected.get(topic.deadLetterTopic) ?? 0) + RECORDS_PER_TOPIC);
      }
    }
    for (const [deadLetterTopic, count] of expected) {
      await expectEventually(async () => expect(await producer.messageCount(deadLetterTopic)).toBe(count), {
        timeoutMs: 60_000,
      });
    }
    expect(resultsOf(records, topics.emailStatusUpdated.name)).toEqual([]);

    // Still consuming: an accepted operation is checked and its result published.
    const id = randomUUID();
    await sendEmail(emulator, id, `${id}@example.org`);
    await kafka.publish(topics.emailSendingAccepted.name, [acceptedRecord(id, Date.now())]);
    const [result] = await expectEventually(
      () => {
        const found = resultsOf(records, topics.emailStatusUpdated.name).filter(
          (r) => r.notificationId === id,
        );
        expect(found).toHaveLength(1);
        return found;
      },
      { timeoutMs: 30_000 },
    );
    expect(resultFields(result!)).toEqual({ notificationId: id, operationId: id, sendResult: 'Succeeded' });
    for (const [deadLetterTopic, count] of expected) {
      expect(await producer.messageCount(deadLetterTopic)).toBe(count);
    }
  }, 180_000);
});
