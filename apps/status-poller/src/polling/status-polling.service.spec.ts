import { ConsoleLogger, Logger } from '@nestjs/common';
import { type SendNotificationOperationIdentifier, type SendOperationResult } from '@notifications/contracts';
import { OperationStatusSource, type OperationCheck } from '../acs/operation-status';
import { Clock } from '../common/clock';
import { loadStatusPollerConfig } from '../config/status-poller.config';
import { PollHeaders } from '../domain/check-schedule';
import { ReportedOperations } from '../domain/reported-operations';
import { PollingOutbox } from './polling-outbox';
import { PollingStats } from './polling-stats';
import { GIVE_UP_RESULT, StatusPollingService } from './status-polling.service';

class ManualClock extends Clock {
  constructor(public current: number) {
    super();
  }
  override now(): number {
    return this.current;
  }
  override sleep(ms: number): Promise<void> {
    this.current += ms;
    return Promise.resolve();
  }
}

class RecordingOutbox extends PollingOutbox {
  readonly results: SendOperationResult[] = [];
  readonly rechecks: { message: SendNotificationOperationIdentifier; headers: Record<string, string> }[] = [];
  readonly waits: { tierMs: number; dueAt: number; headers: Record<string, string> }[] = [];
  publishResult(result: SendOperationResult): Promise<void> {
    this.results.push(result);
    return Promise.resolve();
  }
  publishRecheck(
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void> {
    this.rechecks.push({ message, headers });
    return Promise.resolve();
  }
  waitInTier(
    tierMs: number,
    dueAt: number,
    _message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void> {
    this.waits.push({ tierMs, dueAt, headers });
    return Promise.resolve();
  }
}

class ScriptedSource extends OperationStatusSource {
  readonly asked: string[] = [];
  constructor(private readonly answers: OperationCheck[]) {
    super();
  }
  getOperationStatus(operationId: string): Promise<OperationCheck> {
    this.asked.push(operationId);
    const answer = this.answers.shift();
    if (!answer) throw new Error('no scripted answer left');
    return Promise.resolve(answer);
  }
}

const ACCEPTED_AT = Date.parse('2026-03-16T08:00:00.000Z');
const NOTIFICATION = '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11';

function setUp(answers: OperationCheck[], now: number, env: Record<string, string> = {}) {
  const config = loadStatusPollerConfig({ STATUS_CHECK_DUE_GRANULARITY_MS: '0', ...env });
  const clock = new ManualClock(now);
  const outbox = new RecordingOutbox();
  const source = new ScriptedSource(answers);
  const stats = new PollingStats();
  const reported = new ReportedOperations(100);
  const service = new StatusPollingService(config, source, outbox, stats, clock, reported);
  return { service, clock, outbox, source, stats, reported };
}

function accepted(lastStatusCheck: number): SendNotificationOperationIdentifier {
  return {
    notificationId: NOTIFICATION,
    operationId: NOTIFICATION,
    lastStatusCheck: new Date(lastStatusCheck).toISOString(),
  };
}

describe(StatusPollingService.name, () => {
  // The service logs give-ups and transient errors; keep the test output to the results.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  it('sends a message that is not due yet to the delay tier of its interval, with its poll state', async () => {
    const { service, outbox, source } = setUp([], ACCEPTED_AT + 40);
    const outcome = await service.poll(accepted(ACCEPTED_AT), { traceparent: 't' });
    expect(outcome).toEqual({ action: 'waiting', tierMs: 2_000, until: ACCEPTED_AT + 2_000 });
    expect(source.asked).toEqual([]);
    expect(outbox.waits).toEqual([
      {
        tierMs: 2_000,
        dueAt: ACCEPTED_AT + 2_000,
        headers: {
          traceparent: 't',
          [PollHeaders.checks]: '0',
          [PollHeaders.nextCheckInMs]: '2000',
          [PollHeaders.firstAcceptedAt]: new Date(ACCEPTED_AT).toISOString(),
        },
      },
    ]);
  });

  it('rounds the wake-up time up to the due granularity, never earlier than due', async () => {
    const { service, outbox } = setUp([], ACCEPTED_AT + 40, { STATUS_CHECK_DUE_GRANULARITY_MS: '300ms' });
    await service.poll(accepted(ACCEPTED_AT + 7), {});
    expect(outbox.waits[0]).toMatchObject({ tierMs: 2_000, dueAt: ACCEPTED_AT + 2_100 });
  });

  it('holds a message due within STATUS_CHECK_MAX_HOLD_MS and checks it at its due time', async () => {
    const { service, clock, outbox, stats } = setUp(
      [{ kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' }],
      ACCEPTED_AT + 1_900,
    );
    const outcome = await service.poll(accepted(ACCEPTED_AT), {});
    expect(outcome).toMatchObject({ action: 'finished', sendResult: 'Succeeded' });
    expect(clock.current).toBe(ACCEPTED_AT + 2_000);
    expect(outbox.results).toEqual([
      { notificationId: NOTIFICATION, operationId: NOTIFICATION, sendResult: 'Succeeded' },
    ]);
    expect(stats.snapshot()).toMatchObject({ held: 1, checks: 1, results: { Succeeded: 1 } });
  });

  it('publishes the mapped failure of a failed operation', async () => {
    const { service, outbox } = setUp(
      [{ kind: 'finished', sendResult: 'Failed_SupressedRecipient', detail: 'Failed' }],
      ACCEPTED_AT + 2_300,
    );
    await service.poll(accepted(ACCEPTED_AT), {});
    expect(outbox.results.map((r) => r.sendResult)).toEqual(['Failed_SupressedRecipient']);
  });

  it('re-publishes a running operation with a new lastStatusCheck and the next backed-off interval', async () => {
    const now = ACCEPTED_AT + 8_000 + 6_000 + 120;
    const { service, outbox, stats } = setUp(
      [{ kind: 'running', status: 'Running', retryAfterMs: 1_000 }],
      now,
    );
    const headers = {
      [PollHeaders.checks]: '2',
      [PollHeaders.nextCheckInMs]: '8000',
      [PollHeaders.firstAcceptedAt]: new Date(ACCEPTED_AT).toISOString(),
    };
    const outcome = await service.poll(accepted(ACCEPTED_AT + 6_000), headers);
    expect(outcome).toEqual({
      action: 'recheck',
      reason: 'running',
      nextCheckInMs: 16_000,
      detail: 'Running',
    });
    expect(outbox.rechecks).toEqual([
      {
        message: { ...accepted(ACCEPTED_AT), lastStatusCheck: new Date(now).toISOString() },
        headers: { ...headers, [PollHeaders.checks]: '3', [PollHeaders.nextCheckInMs]: '16000' },
      },
    ]);
    expect(stats.snapshot().lateness).toMatchObject({ count: 1, maxMs: 120 });
  });

  it('honours a retry-after longer than the backoff step', async () => {
    const { service, outbox } = setUp(
      [{ kind: 'running', status: 'Running', retryAfterMs: 5_000 }],
      ACCEPTED_AT + 2_000,
    );
    await service.poll(accepted(ACCEPTED_AT), {});
    expect(outbox.rechecks[0]!.headers[PollHeaders.nextCheckInMs]).toBe('8000');
  });

  it('checks again later after a transient ACS error', async () => {
    const { service, outbox, stats } = setUp(
      [{ kind: 'transient', detail: 'HTTP 503 (no error details)' }],
      ACCEPTED_AT + 2_000,
    );
    const outcome = await service.poll(accepted(ACCEPTED_AT), {});
    expect(outcome).toMatchObject({ action: 'recheck', reason: 'transient', nextCheckInMs: 4_000 });
    expect(outbox.results).toEqual([]);
    expect(stats.snapshot()).toMatchObject({
      transientErrors: 1,
      lastTransientError: 'HTTP 503 (no error details)',
    });
  });

  it('checks one last time at the deadline and then gives up with a final failure', async () => {
    const env = { STATUS_CHECK_DEADLINE_MS: '10s' };
    const lastCheck = ACCEPTED_AT + 6_000;
    const headers = {
      [PollHeaders.checks]: '2',
      [PollHeaders.nextCheckInMs]: '8000',
      [PollHeaders.firstAcceptedAt]: new Date(ACCEPTED_AT).toISOString(),
    };
    const early = setUp([], lastCheck + 50, env);
    expect(await early.service.poll(accepted(lastCheck), headers)).toEqual({
      action: 'waiting',
      tierMs: 4_000,
      until: ACCEPTED_AT + 10_000,
    });

    const atDeadline = setUp([{ kind: 'running', status: 'Running' }], ACCEPTED_AT + 10_000, env);
    expect(await atDeadline.service.poll(accepted(lastCheck), headers)).toMatchObject({
      action: 'gave-up',
      sendResult: GIVE_UP_RESULT,
    });
    expect(atDeadline.outbox.results).toEqual([
      { notificationId: NOTIFICATION, operationId: NOTIFICATION, sendResult: 'Failed' },
    ]);
    expect(atDeadline.outbox.rechecks).toEqual([]);
    expect(atDeadline.stats.snapshot()).toMatchObject({ gaveUp: 1, results: { Failed: 1 } });
  });

  it('still publishes a real outcome found at the deadline', async () => {
    const { service, outbox } = setUp(
      [{ kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' }],
      ACCEPTED_AT + 49 * 3_600_000,
    );
    await service.poll(accepted(ACCEPTED_AT), {});
    expect(outbox.results.map((r) => r.sendResult)).toEqual(['Succeeded']);
  });

  describe('operations whose final delivery report this replica already published', () => {
    it('neither waits in a tier nor checks nor publishes for a reported operation', async () => {
      const { service, outbox, source, stats, reported } = setUp([], ACCEPTED_AT + 40);
      reported.remember(NOTIFICATION, 'Delivered');
      expect(await service.poll(accepted(ACCEPTED_AT), {})).toEqual({ action: 'reported' });
      expect([outbox.waits, outbox.results, outbox.rechecks, source.asked]).toEqual([[], [], [], []]);
      expect(stats.snapshot()).toMatchObject({ messages: 1, skippedReported: 1, checks: 0 });
    });

    it('skips the check when the report arrives while the message is held', async () => {
      const { service, clock, source, outbox, reported } = setUp([], ACCEPTED_AT + 1_900);
      const sleep = clock.sleep.bind(clock);
      clock.sleep = (ms) => {
        reported.remember(NOTIFICATION, 'Failed_Bounced');
        return sleep(ms);
      };
      expect(await service.poll(accepted(ACCEPTED_AT), {})).toEqual({ action: 'reported' });
      expect([source.asked, outbox.results]).toEqual([[], []]);
    });

    it('still checks when the report was not final (Succeeded is remembered by nobody)', async () => {
      const { service, source, reported } = setUp(
        [{ kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' }],
        ACCEPTED_AT + 2_000,
      );
      reported.remember(NOTIFICATION, 'Succeeded');
      expect(await service.poll(accepted(ACCEPTED_AT), {})).toMatchObject({ action: 'finished' });
      expect(source.asked).toEqual([NOTIFICATION]);
    });
  });

  describe('pollBatch', () => {
    function operation(id: string, lastStatusCheck: number): SendNotificationOperationIdentifier {
      return {
        notificationId: id,
        operationId: id,
        lastStatusCheck: new Date(lastStatusCheck).toISOString(),
      };
    }

    it('holds first checks until due and checks them in due order, sending only later ones to a tier', async () => {
      const answers = Array.from({ length: 3 }, (): OperationCheck => ({
        kind: 'finished',
        sendResult: 'Succeeded',
        detail: 'Succeeded',
      }));
      const { service, clock, source, outbox, stats } = setUp(answers, ACCEPTED_AT + 40);
      const recheckHeaders = {
        [PollHeaders.checks]: '1',
        [PollHeaders.nextCheckInMs]: '4000',
        [PollHeaders.firstAcceptedAt]: new Date(ACCEPTED_AT).toISOString(),
      };
      const settled = await service.pollBatch([
        { message: operation('b', ACCEPTED_AT + 30), headers: {} },
        { message: operation('later', ACCEPTED_AT), headers: recheckHeaders },
        { message: operation('a', ACCEPTED_AT + 10), headers: {} },
        { message: operation('c', ACCEPTED_AT + 20), headers: {} },
      ]);
      expect(
        settled.map((result) => (result.status === 'fulfilled' ? result.value.action : 'rejected')),
      ).toEqual(['finished', 'waiting', 'finished', 'finished']);
      expect(source.asked).toEqual(['a', 'c', 'b']);
      expect(clock.current).toBe(ACCEPTED_AT + 2_030);
      expect(outbox.waits).toMatchObject([{ tierMs: 4_000, dueAt: ACCEPTED_AT + 4_000 }]);
      expect(outbox.results.map((result) => result.operationId)).toEqual(['a', 'c', 'b']);
      expect(stats.snapshot()).toMatchObject({ messages: 4, checks: 3, waits: { '4s': 1 } });
    });

    it('skips reported operations and reports a failed publish for that message alone', async () => {
      const { service, source, outbox, reported } = setUp(
        [
          { kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' },
          { kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' },
        ],
        ACCEPTED_AT + 2_000,
      );
      reported.remember('reported', 'Delivered');
      const broken = new Error('broker said no');
      const publishResult = outbox.publishResult.bind(outbox);
      outbox.publishResult = (result) =>
        result.operationId === 'unlucky' ? Promise.reject(broken) : publishResult(result);
      const settled = await service.pollBatch([
        { message: operation('reported', ACCEPTED_AT), headers: {} },
        { message: operation('unlucky', ACCEPTED_AT), headers: {} },
        { message: operation('fine', ACCEPTED_AT), headers: {} },
      ]);
      expect(settled).toEqual([
        { status: 'fulfilled', value: { action: 'reported' } },
        { status: 'rejected', reason: broken },
        { status: 'fulfilled', value: expect.objectContaining({ action: 'finished' }) },
      ]);
      expect(source.asked).toEqual(['unlucky', 'fine']);
      expect(outbox.results.map((result) => result.operationId)).toEqual(['fine']);
    });

    it('gives every message an outcome even when its hold fails, and returns only after the others are done', async () => {
      const answers = Array.from({ length: 2 }, (): OperationCheck => ({
        kind: 'finished',
        sendResult: 'Succeeded',
        detail: 'Succeeded',
      }));
      const { service, clock, source, outbox } = setUp(answers, ACCEPTED_AT + 1_000);
      const sleep = clock.sleep.bind(clock);
      const timerFailed = new Error('timer failed');
      let sleeps = 0;
      clock.sleep = (ms) => ((sleeps += 1) === 1 ? Promise.reject(timerFailed) : sleep(ms));
      const settled = await service.pollBatch([
        { message: operation('first', ACCEPTED_AT), headers: {} },
        { message: operation('second', ACCEPTED_AT + 10), headers: {} },
        { message: operation('third', ACCEPTED_AT + 20), headers: {} },
      ]);
      expect(settled).toEqual([
        { status: 'rejected', reason: timerFailed },
        { status: 'fulfilled', value: expect.objectContaining({ action: 'finished' }) },
        { status: 'fulfilled', value: expect.objectContaining({ action: 'finished' }) },
      ]);
      expect(source.asked).toEqual(['second', 'third']);
      expect(outbox.results.map((result) => result.operationId)).toEqual(['second', 'third']);
    });

    it('checks two messages of one operation one after the other', async () => {
      const { service, source } = setUp(
        [
          { kind: 'running', status: 'Running' },
          { kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' },
        ],
        ACCEPTED_AT + 2_000,
      );
      let inFlight = 0;
      let most = 0;
      const ask = source.getOperationStatus.bind(source);
      source.getOperationStatus = async (id) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await Promise.resolve();
        inFlight -= 1;
        return ask(id);
      };
      await service.pollBatch([
        { message: operation('same', ACCEPTED_AT), headers: {} },
        { message: operation('same', ACCEPTED_AT), headers: {} },
      ]);
      expect(source.asked).toEqual(['same', 'same']);
      expect(most).toBe(1);
    });
  });
});
