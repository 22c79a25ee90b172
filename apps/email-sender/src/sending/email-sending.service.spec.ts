import { randomUUID } from 'node:crypto';
import { type Email, type EmailSendResult } from '@notifications/contracts';
import { type AcsEmailClient, type AcsSendResult, type OperationLookup } from '../acs/acs-email.client';
import { type EmailEventsPublisher } from './email-events.publisher';
import { EmailSendingService, type DeliveryAttempt } from './email-sending.service';
import { SendStatistics } from './send-statistics';
import { SendThrottle } from './send-throttle';
import { HaltedOrders, type HaltRecordReader } from './halted-orders';
import { InfrastructureUnavailableError } from '@notifications/messaging';

type Published =
  | { readonly event: 'accepted'; readonly notificationId: string; readonly operationId: string }
  | { readonly event: 'sendFailed'; readonly notificationId: string; readonly sendResult: EmailSendResult }
  | { readonly event: 'resourceLimitExceeded'; readonly resetTime: Date }
  | { readonly event: 'withheld'; readonly notificationId: string; readonly orderId: string };

/** A reader of orders.halted whose catch-up is scripted: counts the checks, fails when told to. */
class ScriptedHaltReader implements HaltRecordReader {
  offsetRequests = 0;
  unavailable = false;
  start = (): Promise<void> => Promise.resolve();
  stop = (): Promise<void> => Promise.resolve();
  caughtUpWithin = (): Promise<void> => {
    this.offsetRequests += 1;
    return this.unavailable
      ? Promise.reject(new InfrastructureUnavailableError('kafka', 'orders.halted not read up to its end'))
      : Promise.resolve();
  };
}

function email(): Email {
  return {
    notificationId: randomUUID(),
    subject: 'Subject',
    body: 'Body',
    fromAddress: 'noreply@altinn.cloud',
    toAddress: 'someone@example.com',
    contentType: 'Plain',
  };
}

const FIRST: DeliveryAttempt = { attempt: 1, isLastAttempt: false, maybeHandledBefore: false };
const LAST: DeliveryAttempt = { attempt: 5, isLastAttempt: true, maybeHandledBefore: false };
const REDELIVERED: DeliveryAttempt = { attempt: 1, isLastAttempt: false, maybeHandledBefore: true };

describe(EmailSendingService.name, () => {
  let published: Published[];
  let announcementDelayMs: number;
  let acsResults: AcsSendResult[];
  let acsCalls: string[];
  let lookups: OperationLookup[];
  let lookedUp: string[];
  let throttle: SendThrottle;
  let stats: SendStatistics;
  let service: EmailSendingService;
  let haltReader: ScriptedHaltReader;
  let halts: HaltedOrders;

  beforeEach(() => {
    published = [];
    announcementDelayMs = 0;
    acsResults = [];
    acsCalls = [];
    lookups = [];
    lookedUp = [];
    throttle = new SendThrottle({ concurrency: 4, ratePerMinute: 0, maxHoldMs: 1_000 });
    stats = new SendStatistics();
    haltReader = new ScriptedHaltReader();
    halts = new HaltedOrders(haltReader, { maxMessageAgeMs: 48 * 3_600_000 });
    const acs: Pick<AcsEmailClient, 'send' | 'findOperation'> = {
      findOperation: (operationId) => {
        lookedUp.push(operationId);
        const next = lookups.shift();
        if (!next) throw new Error('no scripted lookup result left');
        return Promise.resolve(next);
      },
      send: (message) => {
        acsCalls.push(message.notificationId);
        const next = acsResults.shift();
        if (!next) throw new Error('no scripted ACS result left');
        return Promise.resolve(next);
      },
    };
    const publisher: Pick<
      EmailEventsPublisher,
      'accepted' | 'sendFailed' | 'resourceLimitExceeded' | 'withheld'
    > = {
      withheld: (notificationId, orderId) => {
        published.push({ event: 'withheld', notificationId, orderId });
        return Promise.resolve();
      },
      accepted: (notificationId, operationId) => {
        published.push({ event: 'accepted', notificationId, operationId });
        return Promise.resolve();
      },
      sendFailed: (notificationId, sendResult) => {
        published.push({ event: 'sendFailed', notificationId, sendResult });
        return Promise.resolve();
      },
      // Slow on purpose: the failure after a 429 must still come after it.
      resourceLimitExceeded: (resetTime) =>
        new Promise((resolve) =>
          setTimeout(() => {
            published.push({ event: 'resourceLimitExceeded', resetTime });
            resolve();
          }, announcementDelayMs),
        ),
    };
    service = new EmailSendingService(
      acs as AcsEmailClient,
      throttle,
      publisher as EmailEventsPublisher,
      stats,
      halts,
      { defaultRetryAfterMs: 60_000, maxAcsOutagePausesPerEmail: 3 },
    );
  });

  describe('halted orders', () => {
    const orderId = '3f0c8c4e-1d2b-4c5a-9e8f-7a6b5c4d3e2f';

    it('withholds an email of a halted order: no POST, a withheld report instead', async () => {
      halts.record({ orderId, haltedAt: new Date().toISOString() });
      const message = email();
      await expect(service.send(message, { ...FIRST, orderId })).resolves.toEqual({ kind: 'done' });
      expect(acsCalls).toEqual([]);
      expect(published).toEqual([{ event: 'withheld', notificationId: message.notificationId, orderId }]);
      expect(stats.snapshot().outcomes.withheld).toBe(1);
    });

    it('checks the halts before every POST of an email with an order id, and sends those of other orders', async () => {
      halts.record({ orderId, haltedAt: new Date().toISOString() });
      const message = email();
      acsResults.push({ kind: 'accepted', operationId: message.notificationId });
      await service.send(message, { ...FIRST, orderId: 'a1b2c3d4-0000-4000-8000-000000000001' });
      expect(acsCalls).toEqual([message.notificationId]);
      expect(haltReader.offsetRequests).toBe(1);
    });

    it('sends nothing while the halts cannot be known: the outage error pauses the partition', async () => {
      haltReader.unavailable = true;
      await expect(service.send(email(), { ...FIRST, orderId })).rejects.toBeInstanceOf(
        InfrastructureUnavailableError,
      );
      expect(acsCalls).toEqual([]);
      expect(published).toEqual([]);
    });

    it('sends an email without an order id (not written by orders) without a check', async () => {
      const message = email();
      acsResults.push({ kind: 'accepted', operationId: message.notificationId });
      await service.send(message, FIRST);
      expect(acsCalls).toEqual([message.notificationId]);
      expect(haltReader.offsetRequests).toBe(0);
    });

    it('forgets a halt once it is older than the oldest email it could still stop', () => {
      let now = Date.parse('2026-12-06T12:00:00Z');
      const remembered = new HaltedOrders(haltReader, { maxMessageAgeMs: 3_600_000 }, () => now);
      remembered.record({ orderId, haltedAt: '2026-12-06T11:30:00Z' });
      expect(remembered.snapshot().haltedOrders).toBe(1);
      now += 3_600_000;
      remembered.record({
        orderId: 'a1b2c3d4-0000-4000-8000-000000000001',
        haltedAt: '2026-12-06T12:59:00Z',
      });
      expect(remembered.snapshot().haltedOrders).toBe(1);
    });
  });

  it('publishes the operation identifier when ACS accepts', async () => {
    const message = email();
    acsResults.push({ kind: 'accepted', operationId: message.notificationId });
    await expect(service.send(message, FIRST)).resolves.toEqual({ kind: 'done' });
    expect(published).toEqual([
      { event: 'accepted', notificationId: message.notificationId, operationId: message.notificationId },
    ]);
    expect(stats.snapshot().consumeToAccepted.count).toBe(1);
  });

  it.each<EmailSendResult & ('Failed' | 'Failed_InvalidEmailFormat' | 'Failed_SupressedRecipient')>([
    'Failed',
    'Failed_InvalidEmailFormat',
    'Failed_SupressedRecipient',
  ])('publishes %s when ACS refuses the email, without retrying', async (sendResult) => {
    const message = email();
    acsResults.push({ kind: 'rejected', sendResult, reason: 'refused' });
    await expect(service.send(message, FIRST)).resolves.toEqual({ kind: 'done' });
    expect(published).toEqual([{ event: 'sendFailed', notificationId: message.notificationId, sendResult }]);
  });

  it('on 429 publishes the pause first, then Failed_TransientError, and pauses sending', async () => {
    announcementDelayMs = 50;
    const message = email();
    const before = Date.now();
    acsResults.push({ kind: 'throttled', retryAfterMs: 30_000, reason: '429' });
    await expect(service.send(message, FIRST)).resolves.toEqual({ kind: 'done' });
    expect(published.map((p) => p.event)).toEqual(['resourceLimitExceeded', 'sendFailed']);
    const [pause, failure] = published;
    expect(failure).toEqual({
      event: 'sendFailed',
      notificationId: message.notificationId,
      sendResult: 'Failed_TransientError',
    });
    const reset = (pause as { resetTime: Date }).resetTime.getTime();
    expect(reset).toBeGreaterThanOrEqual(before + 30_000);
    expect(reset).toBeLessThan(Date.now() + 30_000 + 1);
    expect(throttle.pausedUntil).toBe(reset);
  });

  it('on 429 without Retry-After pauses for the default 60 s', async () => {
    const before = Date.now();
    acsResults.push({ kind: 'throttled', retryAfterMs: undefined, reason: '429' });
    await service.send(email(), FIRST);
    expect(throttle.pausedUntil).toBeGreaterThanOrEqual(before + 60_000);
  });

  it('keeps "pause, then failure" for concurrent 429s and announces the pause once', async () => {
    announcementDelayMs = 50;
    const [a, b] = [email(), email()];
    acsResults.push(
      { kind: 'throttled', retryAfterMs: 30_000, reason: '429' },
      { kind: 'throttled', retryAfterMs: 30_000, reason: '429' },
    );
    await Promise.all([service.send(a, FIRST), service.send(b, FIRST)]);
    expect(published.map((p) => p.event)).toEqual(['resourceLimitExceeded', 'sendFailed', 'sendFailed']);
  });

  it('does not send while paused: a long pause sends the message to the retry topic, due at the reset', async () => {
    acsResults.push({ kind: 'throttled', retryAfterMs: 30_000, reason: '429' });
    await service.send(email(), FIRST);
    const next = email();
    const disposition = await service.send(next, FIRST);
    expect(disposition).toMatchObject({ kind: 'retry' });
    const { delayMs } = disposition as { delayMs: number };
    expect(delayMs).toBeGreaterThan(29_000);
    expect(delayMs).toBeLessThanOrEqual(30_000);
    expect(acsCalls).toHaveLength(1);
    expect(stats.snapshot().outcomes.heldBack).toBe(1);
  });

  it('publishes Failed_TransientError instead of retrying when a pause outlasts the last attempt', async () => {
    acsResults.push({ kind: 'throttled', retryAfterMs: 30_000, reason: '429' });
    await service.send(email(), FIRST);
    const next = email();
    lookups.push({ kind: 'absent' });
    await expect(service.send(next, LAST)).resolves.toEqual({ kind: 'done' });
    expect(published.at(-1)).toEqual({
      event: 'sendFailed',
      notificationId: next.notificationId,
      sendResult: 'Failed_TransientError',
    });
  });

  it('asks for a retry when ACS is unavailable, with its Retry-After when it gave one', async () => {
    acsResults.push(
      { kind: 'unavailable', retryAfterMs: undefined, reason: 'HTTP 503' },
      { kind: 'unavailable', retryAfterMs: 90_000, reason: 'HTTP 503 Retry-After 90 s' },
    );
    await expect(service.send(email(), FIRST)).resolves.toEqual({
      kind: 'retry',
      delayMs: undefined,
      reason: 'HTTP 503',
    });
    lookups.push({ kind: 'absent' });
    await expect(
      service.send(email(), { attempt: 2, isLastAttempt: false, maybeHandledBefore: false }),
    ).resolves.toMatchObject({
      kind: 'retry',
      delayMs: 90_000,
    });
    expect(published).toEqual([]);
  });

  it('gives up with Failed_TransientError on the last attempt', async () => {
    const message = email();
    lookups.push({ kind: 'absent' }, { kind: 'absent' });
    acsResults.push({ kind: 'unavailable', retryAfterMs: undefined, reason: 'HTTP 503' });
    await expect(service.send(message, LAST)).resolves.toEqual({ kind: 'done' });
    expect(published).toEqual([
      { event: 'sendFailed', notificationId: message.notificationId, sendResult: 'Failed_TransientError' },
    ]);
    expect(stats.snapshot().outcomes.gaveUp).toBe(1);
  });

  it('makes no lookup for a first delivery that nobody can have sent before', async () => {
    acsResults.push({ kind: 'accepted', operationId: 'x' });
    await service.send(email(), FIRST);
    expect(lookedUp).toEqual([]);
  });

  it.each([
    ['a redelivery after a crash or rebalance', REDELIVERED],
    ['a retry', { attempt: 3, isLastAttempt: false, maybeHandledBefore: false }],
  ])(
    'skips the POST of %s whose operation ACS already has, and reports it accepted',
    async (_case, delivery) => {
      const message = email();
      lookups.push({ kind: 'exists', status: 'Succeeded' });

      await expect(service.send(message, delivery)).resolves.toEqual({ kind: 'done' });

      expect(lookedUp).toEqual([message.notificationId]);
      expect(acsCalls).toEqual([]);
      expect(published).toEqual([
        { event: 'accepted', notificationId: message.notificationId, operationId: message.notificationId },
      ]);
      expect(stats.snapshot().outcomes.alreadyAccepted).toBe(1);
    },
  );

  it('sends a redelivered email whose operation ACS does not have', async () => {
    const message = email();
    lookups.push({ kind: 'absent' });
    acsResults.push({ kind: 'accepted', operationId: message.notificationId });

    await service.send(message, REDELIVERED);

    expect(acsCalls).toEqual([message.notificationId]);
    expect(published.map((p) => p.event)).toEqual(['accepted']);
  });

  it('pauses without sending or spending an attempt when the lookup gets no clear answer', async () => {
    lookups.push({ kind: 'unknown', reason: 'operation lookup failed: HTTP 503', outage: true });

    await expect(service.send(email(), REDELIVERED)).resolves.toEqual({
      kind: 'acsUnavailable',
      reason: 'operation lookup failed: HTTP 503',
    });
    expect(acsCalls).toEqual([]);
    expect(published).toEqual([]);
  });

  it('retries later, without sending, when the lookup is refused (401): attempts spent, not an outage', async () => {
    lookups.push({ kind: 'unknown', reason: 'operation lookup failed: HTTP 401' });

    await expect(service.send(email(), REDELIVERED)).resolves.toMatchObject({ kind: 'retry' });
    expect(acsCalls).toEqual([]);
    expect(published).toEqual([]);
  });

  describe('ACS unavailable (5xx, no answer, timeout)', () => {
    const OUTAGE: AcsSendResult = {
      kind: 'unavailable',
      retryAfterMs: undefined,
      reason: 'ACS send failed (HTTP 503)',
      outage: true,
    };

    it('pauses instead of spending an attempt, even on the last one, and publishes nothing', async () => {
      acsResults.push(OUTAGE, OUTAGE);
      await expect(service.send(email(), FIRST)).resolves.toEqual({
        kind: 'acsUnavailable',
        reason: OUTAGE.reason,
      });
      lookups.push({ kind: 'absent' });
      await expect(service.send(email(), LAST)).resolves.toMatchObject({ kind: 'acsUnavailable' });
      expect(published).toEqual([]);
      expect(stats.snapshot().outcomes.acsUnavailable).toBe(2);
      expect(stats.snapshot().outcomes.retryScheduled).toBe(0);
    });

    it('looks the email up when it is read again after a pause, and skips the POST that did reach ACS', async () => {
      const message = email();
      acsResults.push(OUTAGE);
      await service.send(message, FIRST);
      lookups.push({ kind: 'exists', status: 'Running' });

      // Same attempt, not a redelivery: only the outage says the dropped POST may have been delivered.
      await expect(service.send(message, FIRST)).resolves.toEqual({ kind: 'done' });

      expect(lookedUp).toEqual([message.notificationId]);
      expect(acsCalls).toEqual([message.notificationId]);
      expect(published).toEqual([
        { event: 'accepted', notificationId: message.notificationId, operationId: message.notificationId },
      ]);
    });

    it('sends the email read again after a pause when ACS has no operation for it', async () => {
      const message = email();
      acsResults.push(OUTAGE, { kind: 'accepted', operationId: message.notificationId });
      lookups.push({ kind: 'absent' });
      await service.send(message, FIRST);
      await expect(service.send(message, FIRST)).resolves.toEqual({ kind: 'done' });
      expect(acsCalls).toEqual([message.notificationId, message.notificationId]);
      // Done: the next read of another email makes no lookup for this one's streak.
      acsResults.push({ kind: 'accepted', operationId: 'x' });
      await service.send(email(), FIRST);
      expect(lookedUp).toEqual([message.notificationId]);
    });

    it("spends an attempt when ACS takes other emails meanwhile: the 5xx is this email's own", async () => {
      const failing = email();
      acsResults.push(OUTAGE, { kind: 'accepted', operationId: 'other' }, OUTAGE);
      lookups.push({ kind: 'absent' });
      await expect(service.send(failing, FIRST)).resolves.toMatchObject({ kind: 'acsUnavailable' });
      await service.send(email(), FIRST);

      await expect(service.send(failing, FIRST)).resolves.toMatchObject({
        kind: 'retry',
        reason: OUTAGE.reason,
      });
    });

    it('spends an attempt after maxAcsOutagePausesPerEmail pauses in a row for one email', async () => {
      const message = email();
      for (let pause = 1; pause <= 3; pause += 1) {
        acsResults.push(OUTAGE);
        if (pause > 1) lookups.push({ kind: 'absent' });
        await expect(service.send(message, FIRST)).resolves.toMatchObject({ kind: 'acsUnavailable' });
      }
      acsResults.push(OUTAGE);
      lookups.push({ kind: 'absent' });
      await expect(service.send(message, FIRST)).resolves.toMatchObject({ kind: 'retry' });
    });

    it('spends attempts, as before, when ACS refuses our credentials', async () => {
      acsResults.push({ kind: 'unavailable', retryAfterMs: undefined, reason: 'HTTP 401' });
      await expect(service.send(email(), FIRST)).resolves.toMatchObject({ kind: 'retry' });
    });
  });

  it('on the last attempt reports accepted, not Failed_TransientError, when the unanswered POST did reach ACS', async () => {
    const message = email();
    lookups.push({ kind: 'absent' }, { kind: 'exists', status: 'Running' });
    acsResults.push({ kind: 'unavailable', retryAfterMs: undefined, reason: 'no response' });

    await service.send(message, LAST);

    expect(published).toEqual([
      { event: 'accepted', notificationId: message.notificationId, operationId: message.notificationId },
    ]);
  });

  it('answers an email published twice from what this process already sent: no second POST, no lookup', async () => {
    const message = email();
    acsResults.push({ kind: 'accepted', operationId: message.notificationId });

    await service.send(message, FIRST);
    await service.send({ ...message }, FIRST);

    expect(acsCalls).toEqual([message.notificationId]);
    expect(lookedUp).toEqual([]);
    expect(published.map((p) => p.event)).toEqual(['accepted', 'accepted']);
  });

  it('lets a failed publish propagate, so the message is read again', async () => {
    const failing = new EmailSendingService(
      { send: () => Promise.resolve({ kind: 'accepted', operationId: 'x' }) } as unknown as AcsEmailClient,
      throttle,
      { accepted: () => Promise.reject(new Error('broker down')) } as unknown as EmailEventsPublisher,
      stats,
      halts,
      { defaultRetryAfterMs: 60_000, maxAcsOutagePausesPerEmail: 3 },
    );
    await expect(failing.send(email(), FIRST)).rejects.toThrow('broker down');
    // The send slot was given back all the same.
    expect(throttle.snapshot().inFlight).toBe(0);
  });
});
