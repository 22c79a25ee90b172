import { join } from 'node:path';
import { EmailContract, type SendNotificationOperationIdentifier } from '@notifications/contracts';
import {
  AcsEmulatorProcess,
  type AppProcess,
  expectEventually,
  startAppProcess,
  TYPESCRIPT_SOURCE_NODE_ARGS,
} from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import { randomUUID } from 'node:crypto';
import {
  deleteTestArtifacts,
  senderTopics,
  startSender,
  testEmail,
  testSenderEnv,
  uniqueTopicSuffix,
  type RunningSender,
} from './support/sender-app';
import { TopicRecorder } from './support/topic-recorder';

describe('email-sender killed after the send, before the commit', () => {
  const env = new KafkaTestEnvironment(`email-sender-${randomUUID().slice(0, 8)}`);
  let emulator: AcsEmulatorProcess | undefined;
  let child: AppProcess | undefined;
  let sender: RunningSender | undefined;
  let recorder: TopicRecorder | undefined;

  afterAll(async () => {
    await child?.stop({ signal: 'SIGKILL' });
    await recorder?.stop();
    await sender?.close();
    await emulator?.stop();
    await deleteTestArtifacts(env);
    await env.cleanup();
  });

  it('sends the email once: the restarted sender finds the operation at ACS and does not POST it again', async () => {
    // A repeated Operation-Id is a second email here: whether ACS de-duplicates by it is not documented.
    emulator = await AcsEmulatorProcess.start({ ACS_DEDUPLICATE_OPERATION_ID: 'false' });
    const names = uniqueTopicSuffix(env, 'crash');
    const topics = senderTopics(names);
    const groupId = env.uniqueName('group');
    const email = testEmail({ toAddress: `crash-${randomUUID().slice(0, 8)}@example.com` });
    // ACS records the email and the connection drops: the sender cannot know it went out, and its SDK waits
    // (ACS_RETRY_DELAY_MS, 10–20 s) before asking again. The process is killed in that window.
    await emulator.addRules({
      match: email.toAddress,
      times: 1,
      behaviour: { type: 'drop', afterAccept: true },
    });
    await env.createTopics(topics.emailQueue, 1);
    await env.produceRaw(topics.emailQueue.name, [
      { key: email.notificationId, value: EmailContract.serialize(email) },
    ]);

    child = startAppProcess({
      nodeArgs: TYPESCRIPT_SOURCE_NODE_ARGS,
      args: [join(__dirname, 'fixtures', 'sender-process.ts'), names, groupId],
      env: {
        SWC_NODE_PROJECT: join(__dirname, '..', 'tsconfig.spec.json'),
        ...testSenderEnv({
          ACS_CONNECTION_STRING: emulator.connectionString(),
          KAFKA_TOPIC_PARTITIONS: '1',
          // Short, so that the group hands the partition over soon after the kill.
          KAFKA_SESSION_TIMEOUT_MS: '6s',
          EMAIL_MAX_HOLD_MS: '2s',
          ACS_RETRY_DELAY_MS: '20s',
          ACS_MAX_RETRY_DELAY_MS: '20s',
        }),
      },
      name: 'email-sender (crash fixture)',
    });
    const sender1 = child;

    await expectEventually(
      async () =>
        expect(await emulator!.operation(email.notificationId)).toMatchObject({ messagesRecorded: 1 }),
      { timeoutMs: 60_000, intervalMs: 50 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nsender output:\n${sender1.output()}`);
    });
    await sender1.stop({ signal: 'SIGKILL' });
    expect(await env.committedCount(groupId, topics.emailQueue.name)).toBe(0);

    // A new replica of the same group picks the message up once the dead member's session has expired.
    sender = await startSender({
      env: testSenderEnv({ ACS_CONNECTION_STRING: emulator.connectionString(), KAFKA_TOPIC_PARTITIONS: '1' }),
      topics,
      groupId,
    });
    recorder = await new TopicRecorder().start([topics.emailSendingAccepted.name]);
    const identifier = await expectEventually(
      () => {
        const values = recorder!.valuesFor<SendNotificationOperationIdentifier>(
          topics.emailSendingAccepted.name,
          email.notificationId,
        );
        expect(values).toHaveLength(1);
        return values[0]!;
      },
      { timeoutMs: 60_000 },
    );
    expect(identifier.operationId).toBe(email.notificationId);

    // The redelivered message was below the partition's high watermark at the new member's first fetch, so the
    // sender asked ACS for the operation (GET) and skipped the POST.
    expect(await emulator.operation(email.notificationId)).toMatchObject({ posts: 1, messagesRecorded: 1 });
    expect((await emulator.stats()).requests.send['total']).toBe(1);
    expect(await emulator.messagesWithOperationId(email.notificationId)).toHaveLength(1);
    expect((await emulator.stats()).notificationsSentMoreThanOnce).toBe(0);
    await expectEventually(async () =>
      expect(await env.committedCount(groupId, topics.emailQueue.name)).toBe(1),
    );
  }, 150_000);
});
