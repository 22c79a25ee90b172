import { EmailContract } from '@notifications/contracts';
import { AcsEmulatorProcess, arbitraryRecords, expectEventually, fuzzSeed } from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import {
  deleteTestArtifacts,
  operatorAuth,
  senderTopics,
  type SenderTopics,
  startSender,
  testEmail,
  testSenderEnv,
  uniqueTopicSuffix,
  type RunningSender,
} from './support/sender-app';
import { TopicRecorder } from './support/topic-recorder';

// Property-based: arbitrary bytes and arbitrary JSON on the topic email-sender consumes (email.queue, and its
// retry topic) are each dead-lettered, nothing reaches ACS, the sender keeps running and still sends a valid
// email afterwards. The records are drawn from a seed the test's name shows (FUZZ_SEED=<seed> repeats a run).
const SEED = fuzzSeed();
const RECORDS_PER_TOPIC = 40;

describe(`email-sender consumer on arbitrary records (seed ${SEED})`, () => {
  const env = new KafkaTestEnvironment('email-sender-fuzz');
  let emulator: AcsEmulatorProcess;
  let topics: SenderTopics;
  let sender: RunningSender;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    emulator = await AcsEmulatorProcess.start();
    topics = senderTopics(uniqueTopicSuffix(env, 'fuzz'));
    sender = await startSender({
      env: testSenderEnv({ ACS_CONNECTION_STRING: emulator.connectionString() }),
      topics,
      groupId: env.uniqueName('group'),
    });
    recorder = await new TopicRecorder().start([topics.emailSendingAccepted.name]);
  }, 60_000);

  afterAll(async () => {
    await recorder?.stop();
    await sender?.close();
    await emulator?.stop();
    await deleteTestArtifacts(env);
    await env.cleanup();
  });

  it('dead-letters every arbitrary record on email.queue and its retry topic, and still sends a valid email', async () => {
    await env.produceRaw(topics.emailQueue.name, arbitraryRecords(RECORDS_PER_TOPIC, SEED));
    await env.produceRaw(topics.emailQueue.retryTopic!, arbitraryRecords(RECORDS_PER_TOPIC, SEED + 1));

    await expectEventually(
      async () =>
        expect(await env.messageCount(topics.emailQueue.deadLetterTopic)).toBe(2 * RECORDS_PER_TOPIC),
      { timeoutMs: 60_000 },
    );
    expect((await emulator.stats()).messages).toBe(0);

    // Still consuming, and nothing crashed.
    const email = testEmail();
    await env.produceRaw(topics.emailQueue.name, [
      { key: email.notificationId, value: EmailContract.serialize(email) },
    ]);
    await expectEventually(() =>
      expect(recorder.valuesFor(topics.emailSendingAccepted.name, email.notificationId)).toHaveLength(1),
    );
    expect(await emulator.messagesWithOperationId(email.notificationId)).toHaveLength(1);
    const stats = (await (
      await fetch(`${sender.managementUrl}/stats`, { headers: operatorAuth.headers() })
    ).json()) as { consumer: { state: string } };
    expect(stats.consumer.state).toBe('running');
    expect(await env.messageCount(topics.emailQueue.deadLetterTopic)).toBe(2 * RECORDS_PER_TOPIC);
  }, 180_000);
});
