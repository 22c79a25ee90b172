import { randomUUID } from 'node:crypto';
import { EmailContract } from '@notifications/contracts';
import { AcsEmulatorProcess, expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import {
  deleteTestArtifacts,
  operatorAuth,
  senderTopics,
  startSender,
  testEmail,
  testSenderEnv,
  uniqueTopicSuffix,
  type RunningSender,
} from './support/sender-app';
import { TopicRecorder } from './support/topic-recorder';

interface SenderStats {
  readonly sending: { readonly outcomes: Readonly<Record<string, number>> };
}

describe('email-sender while ACS is unavailable', () => {
  const env = new KafkaTestEnvironment(`email-sender-${randomUUID().slice(0, 8)}`);
  let emulator: AcsEmulatorProcess | undefined;
  let sender: RunningSender | undefined;
  let recorder: TopicRecorder | undefined;

  afterAll(async () => {
    await recorder?.stop();
    await sender?.close();
    await emulator?.stop();
    await deleteTestArtifacts(env);
    await env.cleanup();
  });

  it('pauses without spending attempts or dead-lettering, then sends every email exactly once', async () => {
    // A repeated Operation-Id is a second email here, so "once" counts what real ACS could deliver twice.
    emulator = await AcsEmulatorProcess.start({ ACS_DEDUPLICATE_OPERATION_ID: 'false' });
    const domain = `outage-${randomUUID().slice(0, 8)}.test`;
    const emails = Array.from({ length: 12 }, (_, index) => testEmail({ toAddress: `r${index}@${domain}` }));
    const lostAnswer = emails[0]!;
    const outageMs = 12_000;
    await emulator.addRules([
      // ACS takes this POST and the connection drops before the answer: the sender cannot know it went out.
      { match: lostAnswer.toAddress, times: 1, behaviour: { type: 'drop', afterAccept: true } },
      // Then connections reset without an answer, then 503s, until the outage ends.
      { match: `*@${domain}`, times: 4, behaviour: { type: 'drop' } },
      { match: `*@${domain}`, forMs: outageMs, behaviour: { type: 'serverError', status: 503 } },
    ]);

    const topics = senderTopics(uniqueTopicSuffix(env, 'outage'));
    const groupId = env.uniqueName('group');
    sender = await startSender({
      env: testSenderEnv({
        ACS_CONNECTION_STRING: emulator.connectionString(),
        // No SDK retries: every failure reaches the consumer at once (the path after the SDK's retries).
        ACS_MAX_RETRIES: '0',
        // Two attempts only: had the outage spent any, emails would give up as Failed_TransientError.
        EMAIL_RETRY_MAX_ATTEMPTS: '2',
        EMAIL_MAX_ACS_OUTAGE_PAUSES: '100',
      }),
      topics,
      groupId,
    });
    recorder = await new TopicRecorder().start([
      topics.emailSendingAccepted.name,
      topics.emailStatusUpdated.name,
    ]);
    await env.produceRaw(
      topics.emailQueue.name,
      emails.map((email) => ({ key: email.notificationId, value: EmailContract.serialize(email) })),
    );

    const stats = async (): Promise<SenderStats> =>
      (await (
        await fetch(`${sender!.managementUrl}/stats`, { headers: operatorAuth.headers() })
      ).json()) as SenderStats;
    // During the outage: the sender pauses (several times), nothing is accepted, nothing is retried.
    await expectEventually(
      async () => {
        expect((await emulator!.stats()).requests.send['5xx']).toBeGreaterThanOrEqual(2);
        expect((await stats()).sending.outcomes['acsUnavailable']).toBeGreaterThanOrEqual(4);
      },
      { timeoutMs: 30_000 },
    );
    expect(await env.messageCount(topics.emailQueue.retryTopic!)).toBe(0);
    expect(await env.messageCount(topics.emailQueue.deadLetterTopic)).toBe(0);

    // After recovery: every email accepted once, no status published (no Failed_TransientError).
    await expectEventually(
      () => {
        for (const email of emails)
          expect(recorder!.valuesFor(topics.emailSendingAccepted.name, email.notificationId)).toHaveLength(1);
      },
      { timeoutMs: 90_000 },
    );
    await expectEventually(
      async () => expect(await env.committedCount(groupId, topics.emailQueue.name)).toBe(emails.length),
      { timeoutMs: 30_000 },
    );
    expect(recorder.on(topics.emailStatusUpdated.name)).toEqual([]);
    // No attempt was spent: nothing went to the retry topic, nothing to the dead-letter topic.
    expect(await env.messageCount(topics.emailQueue.retryTopic!)).toBe(0);
    expect(await env.messageCount(topics.emailQueue.deadLetterTopic)).toBe(0);
    const outcomes = (await stats()).sending.outcomes;
    expect(outcomes['retryScheduled']).toBe(0);
    expect(outcomes['gaveUp']).toBe(0);

    // Exactly one email per notification at ACS, de-duplication off.
    for (const email of emails)
      expect(await emulator.messagesWithOperationId(email.notificationId)).toHaveLength(1);
    expect((await emulator.stats()).notificationsSentMoreThanOnce).toBe(0);
    // The email whose answer was lost was read again after the pause, looked up and found: never POSTed again.
    expect(await emulator.operation(lostAnswer.notificationId)).toMatchObject({
      posts: 1,
      messagesRecorded: 1,
    });
    expect(outcomes['alreadyAccepted']).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
