import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  EmailContract,
  isTimestamp,
  parseResourceLimitExceeded,
  toDate,
  type Email,
  type GenericServiceUpdate,
  type SendNotificationOperationIdentifier,
  type SendOperationResult,
} from '@notifications/contracts';
import {
  AcsEmulatorProcess,
  expectEventually,
  OperatorTestAuth,
  WORKSPACE_ROOT,
} from '@notifications/testing';
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
import { TopicRecorder, type RecordedMessage } from './support/topic-recorder';

const contractsDir =
  process.env['NOTIFICATIONS_CONTRACTS_DIR'] ?? resolve(WORKSPACE_ROOT, '..', 'shared', 'contracts');

/** The part of the address before the @, unique per test email. */
const tag = (): string => randomUUID().slice(0, 8);

/**
 * An emulator of a describe block's own: its rules, counters (`stats()`, `notificationsSentMoreThanOnce`) and
 * stored messages hold only what that block's sender did, whichever blocks ran before (`jest --randomize`).
 * Whether ACS treats a repeated Operation-Id as the same send is not documented: here it is a second email, so
 * every "sent once" check below counts what real ACS could deliver twice.
 */
const startEmulator = (): Promise<AcsEmulatorProcess> =>
  AcsEmulatorProcess.start({ ACS_OPERATION_DELAY_MS: '300ms', ACS_DEDUPLICATE_OPERATION_ID: 'false' });

describe('email-sender against a real broker and the ACS emulator', () => {
  const env = new KafkaTestEnvironment(`email-sender-${tag()}`);

  afterAll(async () => {
    await deleteTestArtifacts(env);
    await env.cleanup();
  });

  async function publish(topics: SenderTopics, ...emails: Email[]): Promise<void> {
    await env.produceRaw(
      topics.emailQueue.name,
      emails.map((email) => ({ key: email.notificationId, value: EmailContract.serialize(email) })),
    );
  }

  /** Waits for exactly one record keyed by the notification id on a topic and returns it parsed. */
  async function oneOn<T>(recorder: TopicRecorder, topic: string, notificationId: string): Promise<T> {
    return expectEventually(() => {
      const values = recorder.valuesFor<T>(topic, notificationId);
      expect(values).toHaveLength(1);
      return values[0] as T;
    });
  }

  /**
   * Sends one email through a freshly started sender and waits until the emulator has it and its identifier is
   * published: from then on the consumer is in its group on the brand-new topics and past its first fetch, and the
   * sender, the ACS client and the emulator have done their one-off start-up work. The block's tests start from
   * that state whichever of them runs first.
   */
  async function sendFirstEmail(
    topics: SenderTopics,
    recorder: TopicRecorder,
    emulator: AcsEmulatorProcess,
  ): Promise<void> {
    const email = testEmail();
    await publish(topics, email);
    await expectEventually(
      async () => {
        expect(recorder.valuesFor(topics.emailSendingAccepted.name, email.notificationId)).not.toEqual([]);
        expect(await emulator.messagesWithOperationId(email.notificationId)).not.toEqual([]);
      },
      { timeoutMs: 40_000 },
    );
  }

  describe('one sender', () => {
    let topics: SenderTopics;
    let sender: RunningSender;
    let recorder: TopicRecorder;
    let emulator: AcsEmulatorProcess;

    beforeAll(async () => {
      emulator = await startEmulator();
      topics = senderTopics(uniqueTopicSuffix(env, 'main'));
      sender = await startSender({
        // One outage pause per attempt: the give-up path below finishes in seconds (test/acs-outage.spec.ts
        // covers long outages).
        env: testSenderEnv({
          ACS_CONNECTION_STRING: emulator.connectionString(),
          EMAIL_MAX_ACS_OUTAGE_PAUSES: '1',
        }),
        topics,
        groupId: env.uniqueName('group'),
      });
      recorder = await new TopicRecorder().start([
        topics.emailSendingAccepted.name,
        topics.emailStatusUpdated.name,
        topics.platformServiceUpdated.name,
        topics.emailQueue.retryTopic!,
        topics.emailQueue.deadLetterTopic,
      ]);
      await sendFirstEmail(topics, recorder, emulator);
    }, 90_000);

    afterAll(async () => {
      await recorder?.stop();
      await sender?.close();
      await emulator?.stop();
    });

    const accepted = (id: string) =>
      oneOn<SendNotificationOperationIdentifier>(recorder, topics.emailSendingAccepted.name, id);
    const statusOf = (id: string) => oneOn<SendOperationResult>(recorder, topics.emailStatusUpdated.name, id);

    it('acceptance: the example Email, published with a plain kafkajs producer, becomes one message at the emulator and an identifier it knows', async () => {
      const raw = readFileSync(join(contractsDir, 'email.json'), 'utf8');
      const example = EmailContract.parse(raw);
      // As the reference writes it: no key.
      await env.produceRaw(topics.emailQueue.name, [{ value: raw }]);

      const identifier = await accepted(example.notificationId);
      expect(identifier).toMatchObject({
        notificationId: example.notificationId,
        operationId: example.notificationId,
      });
      expect(isTimestamp(identifier.lastStatusCheck)).toBe(true);
      expect(Math.abs(toDate(identifier.lastStatusCheck).getTime() - Date.now())).toBeLessThan(30_000);

      const messages = await emulator.messagesWithOperationId(identifier.operationId);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        senderAddress: example.fromAddress,
        subject: example.subject,
        plainText: example.body,
        recipients: { to: [{ address: example.toAddress }] },
      });
      expect(await emulator.operation(identifier.operationId)).toMatchObject({
        id: example.notificationId,
        messagesRecorded: 1,
      });
    });

    it('sends plain-text and HTML emails with the notification id as the Operation-Id', async () => {
      const plain = testEmail();
      const html = testEmail({ contentType: 'Html', body: '<p>Hello <b>there</b></p>' });
      await publish(topics, plain, html);

      for (const email of [plain, html]) {
        expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
        const [message, ...more] = await emulator.messagesWithOperationId(email.notificationId);
        expect(more).toEqual([]);
        expect(message).toMatchObject({
          subject: email.subject,
          recipients: { to: [{ address: email.toAddress }] },
          ...(email.contentType === 'Html' ? { html: email.body } : { plainText: email.body }),
        });
      }
      // The operation is real: the emulator reports it (and completes it) like ACS.
      await expectEventually(async () =>
        expect(await emulator.operation(plain.notificationId)).toMatchObject({ status: 'Succeeded' }),
      );
    });

    it('maps "Invalid format for email address" to Failed_InvalidEmailFormat, with operation id ""', async () => {
      const malformed = testEmail({ toAddress: 'not-an-address' });
      const scripted = testEmail({ toAddress: `${tag()}@invalid.test` });
      await publish(topics, malformed, scripted);

      for (const email of [malformed, scripted]) {
        expect(await statusOf(email.notificationId)).toEqual({
          notificationId: email.notificationId,
          operationId: '',
          sendResult: 'Failed_InvalidEmailFormat',
        });
        expect(await emulator.messagesWithOperationId(email.notificationId)).toEqual([]);
      }
      expect(recorder.valuesFor(topics.emailSendingAccepted.name, malformed.notificationId)).toEqual([]);
    });

    it('maps any other refusal (4xx) to Failed', async () => {
      // ACS (and the emulator) refuse a message without a sender address: 400 BadRequest.
      const email = testEmail({ fromAddress: '' });
      await publish(topics, email);
      expect(await statusOf(email.notificationId)).toEqual({
        notificationId: email.notificationId,
        operationId: '',
        sendResult: 'Failed',
      });
    });

    it('a suppressed recipient is accepted; the operation then fails with EmailDroppedAllRecipientsSuppressed (for status-poller)', async () => {
      // ACS reports suppression on the operation, not on the send: email-sender hands it over like any accepted
      // send, and status-poller maps the failed operation to Failed_SupressedRecipient. (A send refused with that
      // code is mapped here too: see acs-email.client.spec.ts.)
      const email = testEmail({ toAddress: `${tag()}@suppressed.test` });
      await publish(topics, email);
      expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
      await expectEventually(async () =>
        expect(await emulator.operation(email.notificationId)).toMatchObject({
          status: 'Failed',
          error: { code: 'EmailDroppedAllRecipientsSuppressed' },
        }),
      );
    });

    it('retries 5xx inside the SDK, then pauses without spending an attempt, always as the same operation, and sends once', async () => {
      const email = testEmail({ toAddress: `flaky-${tag()}@example.com` });
      // Three 503s: the first attempt and both SDK retries fail; ACS is unavailable, the partition pauses and the
      // same attempt, read again, looks the operation up (absent) and gets through.
      await emulator.addRules({
        match: email.toAddress,
        times: 3,
        behaviour: { type: 'serverError', status: 503 },
      });
      await publish(topics, email);

      expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
      expect(await emulator.operation(email.notificationId)).toMatchObject({ posts: 4, messagesRecorded: 1 });
      const retries = recorder
        .on(topics.emailQueue.retryTopic!)
        .filter((r) => r.key === email.notificationId);
      expect(retries).toEqual([]);
      expect(recorder.valuesFor(topics.emailStatusUpdated.name, email.notificationId)).toEqual([]);
    });

    it('gives up after the last attempt with Failed_TransientError instead of dead-lettering, when every attempt used up its outage pauses', async () => {
      // Always 503: each attempt pauses once (EMAIL_MAX_ACS_OUTAGE_PAUSES=1 here), then spends the attempt.
      const email = testEmail({ toAddress: `${tag()}@error.test` });
      await publish(topics, email);

      expect(await statusOf(email.notificationId)).toEqual({
        notificationId: email.notificationId,
        operationId: '',
        sendResult: 'Failed_TransientError',
      });
      const retries = recorder
        .on(topics.emailQueue.retryTopic!)
        .filter((r) => r.key === email.notificationId);
      expect(retries.map((r) => r.headers['x-attempt'])).toEqual(['2', '3']);
      // 3 attempts × 2 reads (before and after the pause) × (1 request + 2 SDK retries), never a message.
      expect(await emulator.operation(email.notificationId)).toMatchObject({
        posts: 18,
        messagesRecorded: 0,
      });
      expect(
        recorder.on(topics.emailQueue.deadLetterTopic).filter((r) => r.key === email.notificationId),
      ).toEqual([]);
      expect(recorder.valuesFor(topics.emailSendingAccepted.name, email.notificationId)).toEqual([]);
    });

    it('retries dropped connections with the same repeatability headers: one email whether ACS had recorded it or not', async () => {
      const before = testEmail({ toAddress: `drop-before-${tag()}@example.com` });
      const after = testEmail({ toAddress: `drop-after-${tag()}@example.com` });
      await emulator.addRules([
        { match: before.toAddress, times: 1, behaviour: { type: 'drop' } },
        // Recorded, then the connection is cut: the client cannot know the email went out.
        { match: after.toAddress, times: 1, behaviour: { type: 'drop', afterAccept: true } },
      ]);
      await publish(topics, before, after);

      for (const email of [before, after]) {
        expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
      }
      // Dropped before anything was decided: the SDK's retry is executed. Dropped after acceptance: the retry is a
      // matching repeat and gets the original 202 (Repeatable Requests), without reaching the send again.
      expect(await emulator.operation(before.notificationId)).toMatchObject({
        posts: 2,
        messagesRecorded: 1,
      });
      expect(await emulator.operation(after.notificationId)).toMatchObject({ posts: 1, messagesRecorded: 1 });
      expect((await emulator.stats()).notificationsSentMoreThanOnce).toBe(0);
    });

    it('retries a timed-out request as a repeat of the same request: 409 while it is in progress, one email', async () => {
      const email = testEmail({ toAddress: `slow-${tag()}@example.com` });
      // Slower than ACS_REQUEST_TIMEOUT_MS (2 s) once; the emulator records the slow request when it wakes up.
      await emulator.addRules({
        match: email.toAddress,
        times: 1,
        behaviour: { type: 'succeed', responseDelayMs: 3_000 },
      });
      const conflictsBefore = (await emulator.stats()).requests.send['409'] ?? 0;
      await publish(topics, email);

      // The SDK's retry carries the same Repeatability-Request-Id while the original is still running at ACS: 409,
      // read as accepted; the original then completes as the only send.
      expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
      expect((await emulator.stats()).requests.send['409']).toBeGreaterThan(conflictsBefore);
      await expectEventually(async () =>
        expect(await emulator.operation(email.notificationId)).toMatchObject({
          posts: 1,
          messagesRecorded: 1,
        }),
      );
      expect(await emulator.messagesWithOperationId(email.notificationId)).toHaveLength(1);
    });

    it('the same Email delivered twice is one message at the emulator', async () => {
      const email = testEmail();
      await publish(topics, email);
      await publish(topics, email);

      await expectEventually(async () =>
        // The second copy is answered from what this sender already sent: no second POST.
        expect(await emulator.operation(email.notificationId)).toMatchObject({
          posts: 1,
          messagesRecorded: 1,
        }),
      );
      await expectEventually(() =>
        expect(recorder.valuesFor(topics.emailSendingAccepted.name, email.notificationId)).toHaveLength(2),
      );
      for (const identifier of recorder.valuesFor<SendNotificationOperationIdentifier>(
        topics.emailSendingAccepted.name,
        email.notificationId,
      )) {
        expect(identifier.operationId).toBe(email.notificationId);
      }
      expect(await emulator.messagesWithOperationId(email.notificationId)).toHaveLength(1);
      expect((await emulator.stats()).notificationsSentMoreThanOnce).toBe(0);
    });

    it('dead-letters poison messages and still sends the next email', async () => {
      const next = testEmail();
      const missingId = readFileSync(
        join(contractsDir, 'invalid', 'email.missing-notification-id.json'),
        'utf8',
      );
      const poisonKey = `poison-${tag()}`;
      await env.produceRaw(topics.emailQueue.name, [
        { key: poisonKey, value: 'this is not JSON' },
        { key: poisonKey, value: missingId },
        { key: poisonKey, value: null },
        { key: next.notificationId, value: EmailContract.serialize(next) },
      ]);

      expect(await accepted(next.notificationId)).toMatchObject({ operationId: next.notificationId });
      await expectEventually(() => {
        const dead = recorder.on(topics.emailQueue.deadLetterTopic).filter((r) => r.key === poisonKey);
        expect(dead.map((r) => r.headers['x-dead-letter-reason'])).toEqual([
          'invalid-message',
          'invalid-message',
          'invalid-message',
        ]);
        expect(dead.map((r) => r.value)).toEqual(['this is not JSON', missingId, undefined]);
      });
    });

    it('never sends an email first published longer ago than EMAIL_MAX_MESSAGE_AGE_MS (48h), and sends the next', async () => {
      // What a consumer group whose offsets expired re-reads from the start of the topic: records older than the
      // notification's expiry. Moved through a retry topic, so its first publication is x-original-timestamp.
      const stale = testEmail();
      const fresh = testEmail();
      const handled = async (): Promise<number> =>
        (
          (await (
            await fetch(`${sender.managementUrl}/stats`, { headers: operatorAuth.headers() })
          ).json()) as { consumer: { handled: number } }
        ).consumer.handled;
      const handledBefore = await handled();
      await env.produceRaw(topics.emailQueue.name, [
        {
          key: stale.notificationId,
          value: EmailContract.serialize(stale),
          headers: { 'x-original-timestamp': String(Date.now() - 8 * 86_400_000) },
        },
        { key: fresh.notificationId, value: EmailContract.serialize(fresh) },
      ]);

      expect(await accepted(fresh.notificationId)).toMatchObject({ operationId: fresh.notificationId });
      // The two may be on different partitions: wait until the stale one was handled (skipped) too.
      await expectEventually(async () => expect(await handled()).toBeGreaterThanOrEqual(handledBefore + 2));
      expect(await emulator.messagesWithOperationId(stale.notificationId)).toEqual([]);
      expect(recorder.valuesFor(topics.emailSendingAccepted.name, stale.notificationId)).toEqual([]);
      expect(recorder.valuesFor(topics.emailStatusUpdated.name, stale.notificationId)).toEqual([]);
    });

    it('answers the health probes and reports its statistics', async () => {
      // Its own send, so the statistics have something to report whichever tests ran before.
      const email = testEmail();
      await publish(topics, email);
      await accepted(email.notificationId);
      const live = await fetch(`${sender.url}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${sender.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', details: { kafka: { status: 'up' } } });
      const stats = (await (
        await fetch(`${sender.managementUrl}/stats`, { headers: operatorAuth.headers() })
      ).json()) as {
        sending: { outcomes: Record<string, number>; consumeToAccepted: { count: number } };
        throttle: { pausedUntil: string | null };
        consumer: { state: string };
      };
      expect(stats.sending.outcomes['accepted']).toBeGreaterThan(0);
      expect(stats.sending.consumeToAccepted.count).toBe(stats.sending.outcomes['accepted']);
      expect(stats.throttle.pausedUntil).toBeNull();
      expect(stats.consumer.state).toBe('running');
    });

    it('serves its operator endpoints on the management listener only, to operator tokens only', async () => {
      // The management listener is on loopback by default, apart from the public port.
      expect(new URL(sender.managementUrl).hostname).toBe('127.0.0.1');
      expect(new URL(sender.managementUrl).port).not.toBe(new URL(sender.url).port);
      for (const [method, path] of [
        ['GET', '/stats'],
        ['DELETE', '/stats'],
        ['GET', '/internal/rate-limit'],
        ['DELETE', '/internal/rate-limit'],
        ['GET', '/metrics'],
        ['GET', '/status'],
      ] as const) {
        // The public listener does not know these routes, even with an operator token.
        const publicly = await fetch(`${sender.url}${path}`, { method, headers: operatorAuth.headers() });
        expect({ method, path, status: publicly.status }).toEqual({ method, path, status: 404 });
      }
      const management = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${sender.managementUrl}${path}`, { headers });
      expect((await management('/internal/rate-limit')).status).toBe(401);
      expect((await management('/internal/rate-limit')).headers.get('www-authenticate')).toBe('Bearer');
      const foreign = new OperatorTestAuth();
      expect((await management('/internal/rate-limit', foreign.headers())).status).toBe(401);
      expect(
        (
          await management(
            '/internal/rate-limit',
            operatorAuth.headers(['altinn:serviceowner/notifications.create']),
          )
        ).status,
      ).toBe(403);
      const shown = await management('/internal/rate-limit', operatorAuth.headers());
      expect(shown.status).toBe(200);
      expect(await shown.json()).toMatchObject({ paused: false, pausedUntil: null });
      // Monitoring scrapes /metrics and /status on the management listener without a token.
      expect((await management('/metrics')).status).toBe(200);
      expect((await management('/status')).status).toBe(200);
      // The probes stay on the public listener for the kubelet.
      expect((await fetch(`${sender.url}/health/live`)).status).toBe(200);
    });
  });

  describe('on 429', () => {
    let topics: SenderTopics;
    let sender: RunningSender;
    let recorder: TopicRecorder;
    let emulator: AcsEmulatorProcess;

    beforeAll(async () => {
      emulator = await startEmulator();
      topics = senderTopics(uniqueTopicSuffix(env, 'throttle'));
      sender = await startSender({
        // One partition, one send at a time: the emails behind the throttled one are already queued when the
        // 429 comes back, and their order is known.
        env: testSenderEnv({
          ACS_CONNECTION_STRING: emulator.connectionString(),
          KAFKA_TOPIC_PARTITIONS: '1',
          EMAIL_SEND_CONCURRENCY: '1',
          EMAIL_MAX_HOLD_MS: '3s',
        }),
        topics,
        groupId: env.uniqueName('group'),
      });
      recorder = await new TopicRecorder().start([
        topics.emailSendingAccepted.name,
        topics.emailStatusUpdated.name,
        topics.platformServiceUpdated.name,
        topics.emailQueue.retryTopic!,
      ]);
    }, 60_000);

    afterAll(async () => {
      await recorder?.stop();
      await sender?.close();
      await emulator?.stop();
    });

    beforeEach(async () => {
      // Each test starts without a pause: the one the other test caused has ended (or is ended by an operator).
      const endPause = await fetch(`${sender.managementUrl}/internal/rate-limit`, {
        method: 'DELETE',
        headers: operatorAuth.headers(),
      });
      expect(endPause.ok).toBe(true);
      const shown = await fetch(`${sender.managementUrl}/internal/rate-limit`, {
        headers: operatorAuth.headers(),
      });
      expect(await shown.json()).toMatchObject({ paused: false, pausedUntil: null });
    });

    const accepted = (id: string) =>
      oneOn<SendNotificationOperationIdentifier>(recorder, topics.emailSendingAccepted.name, id);
    const statusOf = (id: string) => oneOn<SendOperationResult>(recorder, topics.emailStatusUpdated.name, id);

    async function throttleOnce(retryAfterSeconds: number): Promise<{ throttled: Email; queued: Email[] }> {
      const throttled = testEmail({ toAddress: `throttle-${tag()}@example.com` });
      await emulator.addRules({
        match: throttled.toAddress,
        times: 1,
        behaviour: { type: 'throttle', retryAfterSeconds },
      });
      const queued = [testEmail(), testEmail()];
      await publish(topics, throttled, ...queued);
      return { throttled, queued };
    }

    /** The first ResourceLimitExceeded published since `startedAt`, and its reset time. */
    async function pauseAnnouncedAfter(
      startedAt: number,
    ): Promise<{ record: RecordedMessage; update: GenericServiceUpdate; resetAt: number }> {
      return expectEventually(() => {
        const record = recorder
          .on(topics.platformServiceUpdated.name)
          .find((candidate) => candidate.timestamp >= startedAt);
        expect(record).toBeDefined();
        const update = JSON.parse(record!.value!) as GenericServiceUpdate;
        return {
          record: record!,
          update,
          resetAt: toDate(parseResourceLimitExceeded(update).resetTime).getTime(),
        };
      });
    }

    it('publishes ResourceLimitExceeded, then Failed_TransientError, and holds the queued emails back until the reset time', async () => {
      const startedAt = Date.now();
      const { throttled, queued } = await throttleOnce(2);

      const { record, update, resetAt } = await pauseAnnouncedAfter(startedAt - 1_000);
      expect(record.key).toBe('platform-notifications-email');
      expect(update).toMatchObject({
        source: 'platform-notifications-email',
        schema: 'ResourceLimitExceeded',
      });
      expect(resetAt).toBeGreaterThanOrEqual(startedAt + 2_000);
      expect(resetAt).toBeLessThan(Date.now() + 2_000);

      expect(await statusOf(throttled.notificationId)).toEqual({
        notificationId: throttled.notificationId,
        operationId: '',
        sendResult: 'Failed_TransientError',
      });
      const failure = recorder
        .on(topics.emailStatusUpdated.name)
        .find((r) => r.key === throttled.notificationId)!;
      expect(failure.timestamp).toBeGreaterThanOrEqual(record.timestamp);

      for (const email of queued) {
        expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
        const [message] = await emulator.messagesWithOperationId(email.notificationId);
        expect(Date.parse(message!.receivedAt)).toBeGreaterThanOrEqual(resetAt);
      }
      // Held in the process (the pause was within EMAIL_MAX_HOLD_MS): no detour through the retry topic.
      expect(
        recorder
          .on(topics.emailQueue.retryTopic!)
          .filter((r) => queued.some((e) => e.notificationId === r.key)),
      ).toEqual([]);
      expect(await emulator.messagesWithOperationId(throttled.notificationId)).toEqual([]);
    });

    it('sends the queued emails through the retry topic, due at the reset time, when the pause is longer than the hold budget', async () => {
      const startedAt = Date.now();
      const { queued } = await throttleOnce(5);
      const { resetAt } = await pauseAnnouncedAfter(startedAt);

      for (const email of queued) {
        expect(await accepted(email.notificationId)).toMatchObject({ operationId: email.notificationId });
        const [message] = await emulator.messagesWithOperationId(email.notificationId);
        expect(Date.parse(message!.receivedAt)).toBeGreaterThanOrEqual(resetAt);
        const retried = recorder
          .on(topics.emailQueue.retryTopic!)
          .filter((r) => r.key === email.notificationId);
        expect(retried).toHaveLength(1);
        expect(Number(retried[0]!.headers['x-due-at'])).toBeGreaterThanOrEqual(resetAt - 100);
      }
    });
  });
  describe('with a client-side rate limit', () => {
    let topics: SenderTopics;
    let sender: RunningSender;
    let recorder: TopicRecorder;
    let emulator: AcsEmulatorProcess;

    beforeAll(async () => {
      emulator = await startEmulator();
      topics = senderTopics(uniqueTopicSuffix(env, 'rate'));
      sender = await startSender({
        env: testSenderEnv({
          ACS_CONNECTION_STRING: emulator.connectionString(),
          EMAIL_RATE_LIMIT_PER_MINUTE: '600',
        }),
        topics,
        groupId: env.uniqueName('group'),
      });
      recorder = await new TopicRecorder().start([topics.emailSendingAccepted.name]);
      // The gaps below are arrival times at the emulator: the first send of a cold emulator and sender takes
      // longer than a slot, and the sends behind it would arrive bunched up. Pay that before measuring.
      await sendFirstEmail(topics, recorder, emulator);
    }, 90_000);

    afterAll(async () => {
      await recorder?.stop();
      await sender?.close();
      await emulator?.stop();
    });

    it('spaces the sends evenly (600 a minute: one per 100 ms), however many are queued', async () => {
      const emails = Array.from({ length: 6 }, () => testEmail());
      await publish(topics, ...emails);

      // Wait for every email at the emulator (not for a count of accepted records: a consumer on brand-new topics
      // may re-read a message, at least once, and publish its identifier twice).
      const received = await expectEventually(async () => {
        const times: number[] = [];
        for (const email of emails) {
          const [message] = await emulator.messagesWithOperationId(email.notificationId);
          expect(message).toBeDefined();
          times.push(Date.parse(message!.receivedAt));
        }
        return times;
      });
      received.sort((a, b) => a - b);
      const gaps = received.slice(1).map((at, index) => at - received[index]!);
      // Slots are 100 ms apart; on a busy machine a request may arrive a little late and bunch up with the next.
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(40);
      // Five 100 ms slots: these are arrival times at the emulator, so allow one slot of jitter. Without the limit
      // all six arrive within a few milliseconds.
      expect(received.at(-1)! - received[0]!).toBeGreaterThanOrEqual(400);
    });
  });

  describe('with a wrong access key', () => {
    let topics: SenderTopics;
    let sender: RunningSender;
    let recorder: TopicRecorder;
    let emulator: AcsEmulatorProcess;

    beforeAll(async () => {
      emulator = await startEmulator();
      topics = senderTopics(uniqueTopicSuffix(env, 'badkey'));
      sender = await startSender({
        env: testSenderEnv({
          ACS_CONNECTION_STRING: emulator.connectionString(
            Buffer.from('not the emulator key').toString('base64'),
          ),
        }),
        topics,
        groupId: env.uniqueName('group'),
      });
      recorder = await new TopicRecorder().start([
        topics.emailSendingAccepted.name,
        topics.emailStatusUpdated.name,
        topics.emailQueue.retryTopic!,
      ]);
    }, 60_000);

    afterAll(async () => {
      await recorder?.stop();
      await sender?.close();
      await emulator?.stop();
    });

    it('is refused by the emulator (401); the email spends its attempts (not an outage), then Failed_TransientError, never Failed', async () => {
      const before = await emulator.stats();
      const email = testEmail();
      await publish(topics, email);

      expect(
        await oneOn<SendOperationResult>(recorder, topics.emailStatusUpdated.name, email.notificationId),
      ).toEqual({
        notificationId: email.notificationId,
        operationId: '',
        sendResult: 'Failed_TransientError',
      });
      const retries = recorder
        .on(topics.emailQueue.retryTopic!)
        .filter((r) => r.key === email.notificationId);
      expect(retries.map((r) => r.headers['x-attempt'])).toEqual(['2', '3']);
      // Refused before ACS looked at it: no operation, no message.
      expect(await emulator.operation(email.notificationId)).toBeUndefined();
      const after = await emulator.stats();
      expect(after.messages).toBe(before.messages);
      // 3 attempts, each refused once (the SDK does not retry a 401 by itself): by the POST, or by the operation
      // lookup made first when the message may have been handled before (a retry, or the first fetch after joining).
      const refused = (stats: typeof before) =>
        (stats.requests.send['401'] ?? 0) + (stats.requests.poll['401'] ?? 0);
      expect(refused(after) - refused(before)).toBe(3);
      expect(recorder.on(topics.emailSendingAccepted.name)).toEqual([]);
    });
  });
});
