import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { SendNotificationOperationIdentifierContract } from '@notifications/contracts';
import { type AcsEmulatorProcess, expectEventually } from '@notifications/testing';
import { PollHeaders } from '../src/domain/check-schedule';
import { StatusPollingService } from '../src/polling/status-polling.service';
import { sendEmail, sendEmails, startEmulator } from './support/acs-emulator';
import { expectToStay, percentile } from './support/eventually';
import { TestKafka, type ObservedRecord } from './support/kafka';
import { acceptedRecord, resultFields, resultsOf } from './support/messages';
import { StatusPollerApp, TEST_SCHEDULE_ENV, uniqueSuffix } from './support/status-poller-app';

describe(`${StatusPollingService.name} (real broker, ACS emulator)`, () => {
  let emulator: AcsEmulatorProcess;
  let kafka: TestKafka;
  let poller: StatusPollerApp | undefined;
  let suffix: string;

  beforeAll(async () => {
    emulator = await startEmulator();
  });

  afterAll(async () => {
    if (process.env['SHOW_EMULATOR_OUTPUT']) console.log(emulator.output().slice(-5000));
    await emulator.stop();
  });

  beforeEach(() => {
    kafka = new TestKafka();
    suffix = uniqueSuffix('poll');
  });

  afterEach(async () => {
    await poller?.close();
    poller = undefined;
    await kafka.deleteTopics(suffix);
    await kafka.close();
  });

  async function start(env: Record<string, string> = {}, acsConnectionString = emulator.connectionString()) {
    poller = await StatusPollerApp.start(
      {
        ...TEST_SCHEDULE_ENV,
        KAFKA_TOPIC_SUFFIX: suffix,
        ACS_CONNECTION_STRING: acsConnectionString,
        ...env,
      },
      kafka,
    );
    const { topics } = poller;
    const records = await kafka.read(
      [topics.emailSendingAccepted.name, topics.emailStatusUpdated.name],
      suffix,
    );
    const results = () => resultsOf(records, topics.emailStatusUpdated.name);
    const accepted = (id: string): ObservedRecord[] =>
      records.filter((r) => r.topic === topics.emailSendingAccepted.name && r.key === id);
    return { app: poller, topics, records, results, accepted };
  }

  it('checks an operation that succeeds after several checks, backing off, and publishes exactly one Succeeded', async () => {
    const { app, topics, results, accepted } = await start();
    const domain = `several-${suffix}.test`;
    await emulator.addRules([{ match: `*@${domain}`, behaviour: { type: 'succeed', delayMs: 3_500 } }]);
    const id = randomUUID();
    await sendEmail(emulator, id, `${id}@${domain}`);
    const acceptedAt = Date.now();
    await kafka.publish(topics.emailSendingAccepted.name, [acceptedRecord(id, acceptedAt)]);

    const [result] = await expectEventually(
      () => {
        const found = results().filter((r) => r.notificationId === id);
        expect(found).toHaveLength(1);
        return found;
      },
      { timeoutMs: 20_000 },
    );
    expect(resultFields(result!)).toEqual({ notificationId: id, operationId: id, sendResult: 'Succeeded' });
    expect(result!.record.key).toBe(id);

    // Checks at +1 s and +3 s found it running (re-published with the reference's new lastStatusCheck); the
    // third, 4 s later, found it finished.
    const rechecks = accepted(id).filter((r) => r.headers[PollHeaders.checks] !== undefined);
    expect(
      rechecks.map((r) => [r.headers[PollHeaders.checks], r.headers[PollHeaders.nextCheckInMs]]),
    ).toEqual([
      ['1', '2000'],
      ['2', '4000'],
    ]);
    const checkedAt = rechecks.map((r) =>
      Date.parse(SendNotificationOperationIdentifierContract.parse(r.value).lastStatusCheck),
    );
    expect(checkedAt[0]! - acceptedAt).toBeGreaterThanOrEqual(1_000);
    expect(checkedAt[1]! - checkedAt[0]!).toBeGreaterThanOrEqual(2_000);
    expect(result!.record.timestamp - checkedAt[1]!).toBeGreaterThanOrEqual(4_000);
    expect(
      rechecks.every((r) => r.headers[PollHeaders.firstAcceptedAt] === new Date(acceptedAt).toISOString()),
    ).toBe(true);

    await expectToStay(() => {
      expect(results().filter((r) => r.notificationId === id)).toHaveLength(1);
      expect(app.stats()).toMatchObject({ checks: 3, results: { Succeeded: 1 }, stillRunning: 2 });
    }, 1_500);
  });

  it('publishes the mapped failure of a failed operation, and Failed for one ACS does not know', async () => {
    const { topics, results } = await start();
    const suppressed = `suppressed-${suffix}.test`;
    const dropped = `dropped-${suffix}.test`;
    await emulator.addRules([
      { match: `*@${suppressed}`, behaviour: { type: 'suppress', delayMs: 500 } },
      {
        match: `*@${dropped}`,
        behaviour: { type: 'fail', delayMs: 0, error: { code: 'EmailDropped', message: 'dropped' } },
      },
    ]);
    const [a, b, unknown] = [randomUUID(), randomUUID(), randomUUID()];
    await sendEmail(emulator, a, `${a}@${suppressed}`);
    await sendEmail(emulator, b, `${b}@${dropped}`);
    const now = Date.now();
    await kafka.publish(topics.emailSendingAccepted.name, [
      acceptedRecord(a, now),
      acceptedRecord(b, now),
      acceptedRecord(unknown, now),
    ]);

    await expectEventually(() =>
      expect(results().map(resultFields)).toEqual(
        expect.arrayContaining([
          { notificationId: a, operationId: a, sendResult: 'Failed_SupressedRecipient' },
          { notificationId: b, operationId: b, sendResult: 'Failed' },
          { notificationId: unknown, operationId: unknown, sendResult: 'Failed' },
        ]),
      ),
    );
    expect(results()).toHaveLength(3);
  });

  it('gives up at the deadline with a final Failed and polls no more', async () => {
    const { app, topics, results, accepted } = await start({ STATUS_CHECK_DEADLINE_MS: '5s' });
    const domain = `forever-${suffix}.test`;
    await emulator.addRules([{ match: `*@${domain}`, behaviour: { type: 'succeed', delayMs: 86_400_000 } }]);
    const id = randomUUID();
    await sendEmail(emulator, id, `${id}@${domain}`);
    const acceptedAt = Date.now();
    await kafka.publish(topics.emailSendingAccepted.name, [acceptedRecord(id, acceptedAt)]);

    const [result] = await expectEventually(
      () => {
        const found = results();
        expect(found.map(resultFields)).toEqual([
          { notificationId: id, operationId: id, sendResult: 'Failed' },
        ]);
        return found;
      },
      { timeoutMs: 15_000 },
    );
    // Checks at +1 s and +3 s, and a last one at the deadline (+5 s) instead of at +7 s.
    expect(result!.record.timestamp - acceptedAt).toBeGreaterThanOrEqual(5_000);
    expect(result!.record.timestamp - acceptedAt).toBeLessThan(6_500);
    expect(app.stats()).toMatchObject({ checks: 3, gaveUp: 1 });
    const pollsAtGiveUp = (await emulator.stats()).requests.poll.total;

    await expectToStay(async () => {
      expect(app.stats().checks).toBe(3);
      expect(accepted(id)).toHaveLength(3); // the sender's message and two re-checks
      expect(results()).toHaveLength(1);
      expect((await emulator.stats()).requests.poll.total).toBe(pollsAtGiveUp);
    }, 3_000);
  });

  it('checks again later after transient ACS errors (503, 429 with retry-after, no connection)', async () => {
    // The emulator scripts failures of sends, not of status polls: a proxy in front of it fails the first polls.
    let polls = 0;
    const emulatorUrl = new URL(emulator.url);
    const proxy = http.createServer((request, response) => {
      polls += 1;
      if (polls === 1) {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end('{"error":{"code":"ServiceUnavailable","message":"try later"}}');
        return;
      }
      if (polls === 2) {
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
        response.end('{"error":{"code":"TooManyRequests","message":"slow down"}}');
        return;
      }
      if (polls === 3) {
        request.socket.destroy();
        return;
      }
      const upstream = http.request(
        {
          host: emulatorUrl.hostname,
          port: emulatorUrl.port,
          path: request.url,
          method: request.method,
          headers: request.headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const viaProxy = emulator.connectionString().replace(emulator.url, `http://127.0.0.1:${port}`);
      const { app, topics, results, accepted } = await start(
        { STATUS_CHECK_MAX_INTERVAL_MS: '2s' },
        viaProxy,
      );
      const id = randomUUID();
      await sendEmail(emulator, id, `${id}@example.org`);
      await kafka.publish(topics.emailSendingAccepted.name, [acceptedRecord(id, Date.now())]);

      await expectEventually(
        () =>
          expect(results().map(resultFields)).toEqual([
            { notificationId: id, operationId: id, sendResult: 'Succeeded' },
          ]),
        { timeoutMs: 20_000 },
      );
      expect(app.stats()).toMatchObject({ checks: 4, transientErrors: 3 });
      // 429's retry-after of 3 s raised the 2 s step (rounded up to a step of the schedule; here the longest).
      const intervals = accepted(id)
        .filter((r) => r.headers[PollHeaders.checks] !== undefined)
        .map((r) => r.headers[PollHeaders.nextCheckInMs]);
      expect(intervals).toEqual(['2000', '3000', '2000']);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('checks many operations with different due times close to their due time', async () => {
    const { app, topics, results } = await start({ STATUS_CHECK_MAX_INTERVAL_MS: '8s' });
    const domain = `due-${suffix}.test`;
    await emulator.addRules([{ match: `*@${domain}`, behaviour: { type: 'succeed', delayMs: 0 } }]);
    const count = 300;
    const operations = Array.from({ length: count }, () => ({ id: randomUUID() }));
    await sendEmails(
      emulator,
      operations.map(({ id }) => ({ id, to: `${id}@${domain}` })),
    );

    // Mixed schedules in one partition order: re-checks of earlier checks (1–9 s intervals, one longer than the
    // longest tier, as a retry-after would make it), published in random order, due 0.75–9 s from now.
    const now = Date.now();
    const intervals = [1_000, 2_000, 4_000, 8_000, 9_000];
    const due = new Map<string, number>();
    const messages = operations.map(({ id }, index) => {
      const interval = intervals[index % intervals.length]!;
      const lastStatusCheck = now - Math.floor(Math.random() * 250);
      due.set(id, lastStatusCheck + interval);
      return acceptedRecord(id, lastStatusCheck, {
        [PollHeaders.checks]: String(1 + (index % 4)),
        [PollHeaders.nextCheckInMs]: String(interval),
      });
    });
    messages.sort(() => Math.random() - 0.5);
    await kafka.publish(topics.emailSendingAccepted.name, messages);

    await expectEventually(() => expect(results()).toHaveLength(count), { timeoutMs: 30_000 });
    const latenessMs = results().map((result) => result.record.timestamp - due.get(result.notificationId!)!);
    const summary = {
      p50: percentile(latenessMs, 50),
      p90: percentile(latenessMs, 90),
      p99: percentile(latenessMs, 99),
      max: Math.max(...latenessMs),
      min: Math.min(...latenessMs),
    };
    const measuredByApp = app.stats().lateness;
    console.log(
      `Check lateness of ${count} operations (result published − due), ms: ${JSON.stringify(summary)}; ` +
        `as the poller measured it (check start − due): ${JSON.stringify(measuredByApp)}`,
    );
    expect(new Set(results().map((r) => r.notificationId)).size).toBe(count);
    expect(results().every((r) => r.sendResult === 'Succeeded')).toBe(true);
    expect(summary.min).toBeGreaterThanOrEqual(0); // never checked early
    expect(measuredByApp.early).toBe(0);
    expect(summary.p99).toBeLessThan(1_500);
    expect(measuredByApp.p99Ms).toBeLessThan(1_500);
  });
});
