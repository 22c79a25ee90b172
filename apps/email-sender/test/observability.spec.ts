import { randomUUID } from 'node:crypto';
import { EmailContract, type Email } from '@notifications/contracts';
import { parsePrometheusText, sampleValue, type MetricSample } from '@notifications/observability';
import { AcsEmulatorProcess, expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import {
  deleteTestArtifacts,
  senderTopics,
  type SenderTopics,
  startSender,
  testEmail,
  testSenderEnv,
  uniqueTopicSuffix,
  type RunningSender,
} from './support/sender-app';
import { TopicRecorder } from './support/topic-recorder';

const tag = (): string => randomUUID().slice(0, 8);

interface StatusDocument {
  readonly service: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly delivered: number;
  readonly inProcess: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly recentErrors: { at: string; topic: string; partition: number; offset: string; error: string }[];
}

describe('email-sender /metrics and /status', () => {
  const env = new KafkaTestEnvironment(`email-sender-obs-${tag()}`);
  let emulator: AcsEmulatorProcess;
  let topics: SenderTopics;
  let sender: RunningSender;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    emulator = await AcsEmulatorProcess.start({ ACS_OPERATION_DELAY_MS: '300ms' });
    topics = senderTopics(uniqueTopicSuffix(env, 'obs'));
    sender = await startSender({
      env: testSenderEnv({
        ACS_CONNECTION_STRING: emulator.connectionString(),
        KAFKA_TOPIC_PARTITIONS: '1',
        // The 503s below must take the retry topic every time, whatever the order of the concurrent sends: with
        // outage pauses on, a 503 is an outage or the email's own failure depending on whether another send was
        // accepted in between (apps/email-sender/test/acs-outage.spec.ts covers the pauses).
        EMAIL_MAX_ACS_OUTAGE_PAUSES: '0',
      }),
      topics,
      groupId: env.uniqueName('group'),
    });
    recorder = await new TopicRecorder().start([
      topics.emailSendingAccepted.name,
      topics.emailStatusUpdated.name,
    ]);
  }, 60_000);

  afterAll(async () => {
    await recorder?.stop();
    await sender?.close();
    await emulator?.stop();
    await deleteTestArtifacts(env);
    await env.cleanup();
  });

  async function metrics(): Promise<MetricSample[]> {
    const response = await fetch(`${sender.managementUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parsePrometheusText(await response.text());
  }

  async function status(): Promise<StatusDocument> {
    const response = await fetch(`${sender.managementUrl}/status`);
    expect(response.status).toBe(200);
    return (await response.json()) as StatusDocument;
  }

  it('counts sends by result, ACS throttling, retries, dead letters and per-topic traffic, and reports them in $status', async () => {
    const ok = testEmail();
    const flaky = testEmail({ toAddress: `flaky-${tag()}@example.com` });
    const throttled = testEmail({ toAddress: `throttle-${tag()}@example.com` });
    await emulator.addRules([
      // The first attempt and both SDK retries fail: the message goes through the retry topic once.
      { match: flaky.toAddress, times: 3, behaviour: { type: 'serverError', status: 503 } },
      { match: throttled.toAddress, times: 1, behaviour: { type: 'throttle', retryAfterSeconds: 1 } },
    ]);
    const queue = topics.emailQueue.name;
    await env.produceRaw(queue, [
      ...[ok, flaky, throttled].map((email: Email) => ({
        key: email.notificationId,
        value: EmailContract.serialize(email),
      })),
      { key: 'broken', value: '{"not":"an email"}' },
    ]);

    await expectEventually(() => {
      expect(recorder.valuesFor(topics.emailSendingAccepted.name, ok.notificationId)).toHaveLength(1);
      expect(recorder.valuesFor(topics.emailSendingAccepted.name, flaky.notificationId)).toHaveLength(1);
      expect(recorder.valuesFor(topics.emailStatusUpdated.name, throttled.notificationId)).toHaveLength(1);
    });

    const samples = await expectEventually(async () => {
      const current = await metrics();
      // 4 on the main topic, 1 on the retry topic.
      expect(sampleValue(current, 'notifications_messages_consumed_total', { topic: queue })).toBe(4);
      return current;
    });
    const service = { service: 'email-sender' };
    expect(
      sampleValue(samples, 'notifications_messages_consumed_total', { topic: topics.emailQueue.retryTopic! }),
    ).toBe(1);
    expect(sampleValue(samples, 'notifications_messages_retried_total', { topic: queue, ...service })).toBe(
      1,
    );
    expect(
      sampleValue(samples, 'notifications_messages_dead_lettered_total', {
        topic: queue,
        reason: 'invalid-message',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'notifications_message_handler_duration_seconds_count', {
        topic: queue,
        outcome: 'handled',
      }),
    ).toBe(2);
    expect(
      sampleValue(samples, 'notifications_message_handler_duration_seconds_count', {
        topic: topics.emailQueue.retryTopic!,
        outcome: 'handled',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'notifications_messages_produced_total', {
        topic: topics.emailSendingAccepted.name,
      }),
    ).toBe(2);
    expect(
      sampleValue(samples, 'notifications_messages_produced_total', {
        topic: topics.emailQueue.deadLetterTopic,
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'notifications_emails_sent_total', { result: 'accepted' })).toBe(2);
    expect(sampleValue(samples, 'notifications_emails_sent_total', { result: 'rate_limited' })).toBe(1);
    expect(sampleValue(samples, 'notifications_emails_sent_total', { result: 'retry_scheduled' })).toBe(1);
    expect(sampleValue(samples, 'notifications_acs_throttled_total')).toBe(1);
    // Caught up: nothing left behind the high watermark of the partition it read.
    const lag = samples.filter((s) => s.name === 'notifications_consumer_lag' && s.labels['topic'] === queue);
    expect(lag).toEqual([
      expect.objectContaining({ labels: expect.objectContaining({ partition: '0' }), value: 0 }),
    ]);
    // Default process metrics.
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);

    const document = await status();
    expect(document).toMatchObject({
      service: 'email-sender',
      // ok, the throttled one (reported Failed_TransientError) and the flaky one's second attempt.
      delivered: 3,
      retried: 1,
      deadLettered: 1,
      inProcess: 0,
      lost: 0,
    });
    expect(Date.parse(document.startedAt)).toBeLessThanOrEqual(Date.now());
    expect(document.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(document.recentErrors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          topic: queue,
          partition: 0,
          offset: '3',
          error: expect.stringContaining('invalid-message') as unknown,
        }),
      ]),
    );
  });
});
