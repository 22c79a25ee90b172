import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  formatTimestamp,
  type EmailSendResult,
  type SendNotificationOperationIdentifier,
} from '@notifications/contracts';
import { OperationStatusSource } from '../acs/operation-status';
import { Clock } from '../common/clock';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from '../config/status-poller.config';
import {
  checkIntervals,
  deadlineOf,
  dueAt,
  nextInterval,
  pollStateHeaders,
  readPollState,
  tierFor,
  type CheckSchedule,
  type PollState,
} from '../domain/check-schedule';
import { ReportedOperations } from '../domain/reported-operations';
import { PollingOutbox } from './polling-outbox';
import { PollingStats } from './polling-stats';

/** What became of one message (returned for tests and logs; every outcome is already durable). */
export type PollOutcome =
  | { readonly action: 'waiting'; readonly tierMs: number; readonly until: number }
  | { readonly action: 'finished'; readonly sendResult: EmailSendResult; readonly detail: string }
  | {
      readonly action: 'recheck';
      readonly reason: 'running' | 'transient';
      readonly nextCheckInMs: number;
      readonly detail: string;
    }
  | { readonly action: 'gave-up'; readonly sendResult: EmailSendResult; readonly detail: string }
  /** Not checked: this replica already published the operation's final delivery report. */
  | { readonly action: 'reported' };

const REPORTED: PollOutcome = { action: 'reported' };

/**
 * The final result when the deadline passes with the operation still unfinished (or ACS unreachable).
 * `Failed`, not `Failed_TransientError`: in `orders` a Failed_TransientError notification goes back to `New` and
 * is sent again (SPEC section 2, step 7), but this email was accepted by ACS and may well have been delivered —
 * resending would risk a duplicate. Nothing more can be learned, so the status is final.
 */
export const GIVE_UP_RESULT: EmailSendResult = 'Failed';

/**
 * Rounds a wake-up time up to the granularity, so that messages of a delay tier fall due in groups: the runtime
 * pauses a tier partition until its head message is due and then fetches it again, and one resume per group is far
 * cheaper than one per message. Rounding up keeps the order of a tier and never wakes a message early.
 */
function roundUp(epochMs: number, granularityMs: number): number {
  return granularityMs > 0 ? Math.ceil(epochMs / granularityMs) * granularityMs : epochMs;
}

/** One message of a fetched batch: its payload and record headers. */
export interface PollRequest {
  readonly message: SendNotificationOperationIdentifier;
  readonly headers: Readonly<Record<string, string>>;
}

interface HeldCheck {
  readonly index: number;
  readonly request: PollRequest;
  readonly state: PollState;
  readonly due: number;
  /** The check of an earlier message of the same operation in this batch (one check at a time per key). */
  readonly after: Promise<unknown> | undefined;
}

/**
 * Decides, for each accepted operation, whether to wait (in a delay tier) or check now, checks it with ACS, and
 * publishes the outcome: a final result, or a re-check on `email.sending.accepted` with a backed-off due time.
 */
@Injectable()
export class StatusPollingService {
  private readonly logger = new Logger(StatusPollingService.name);
  private readonly schedule: CheckSchedule;
  private readonly tiers: readonly number[];
  private readonly maxHoldMs: number;
  private readonly batchHoldMs: number;
  private readonly batchCheckConcurrency: number;
  private readonly dueGranularityMs: number;
  private lastTransientLog = 0;
  private transientSinceLog = 0;

  constructor(
    @Inject(STATUS_POLLER_CONFIG) config: StatusPollerConfig,
    private readonly source: OperationStatusSource,
    private readonly outbox: PollingOutbox,
    private readonly stats: PollingStats,
    private readonly clock: Clock,
    private readonly reported: ReportedOperations,
  ) {
    this.schedule = config.polling;
    this.tiers = checkIntervals(config.polling);
    this.maxHoldMs = config.polling.maxHoldMs;
    this.batchHoldMs = config.polling.batchHoldMs;
    this.batchCheckConcurrency = config.polling.perPartitionConcurrency;
    this.dueGranularityMs = config.polling.dueGranularityMs;
  }

  get delayTiers(): readonly number[] {
    return this.tiers;
  }

  /** Handles one message from `email.sending.accepted` or a delay tier. */
  async poll(
    message: SendNotificationOperationIdentifier,
    headers: Readonly<Record<string, string>>,
  ): Promise<PollOutcome> {
    this.stats.messageReceived();
    if (this.skipReported(message)) return REPORTED;
    const state = readPollState(this.schedule, message, headers);
    const due = dueAt(this.schedule, message, state);
    const now = this.clock.now();
    const remaining = due - now;
    if (remaining > this.maxHoldMs) {
      // Not due soon: wait in a delay topic rather than in this process (see the README: a handler that waits
      // holds up the consumer's whole fetch loop, not only its own partition).
      return this.waitInTier(message, state, due, headers, now);
    }
    await this.holdUntil(due);
    return this.check(message, state, due, headers);
  }

  /**
   * Handles a fetched batch of one partition of `email.sending.accepted` at once. What is due within
   * STATUS_CHECK_BATCH_HOLD_MS — every first check, 2 s after acceptance — is held here and checked at its due
   * time, at most STATUS_CHECK_CONCURRENCY at a time, instead of a round trip through a delay tier; the rest waits
   * in its tier as in {@link poll}. Resolves once every message has a durable outcome (the runner commits the
   * batch's offsets only then, so a crash while holding re-reads the messages), with one settled outcome per
   * message in batch order; a rejected one is the runner's to retry. It is not told of a rebalance: it finishes the
   * batch, and the partition's new owner may check the same messages again (the same result twice, which `orders`
   * applies once) — nothing is committed past a message without an outcome either way.
   */
  async pollBatch(requests: readonly PollRequest[]): Promise<PromiseSettledResult<PollOutcome>[]> {
    const settled = new Array<PromiseSettledResult<PollOutcome>>(requests.length);
    const settle = async (index: number, work: () => Promise<PollOutcome>): Promise<void> => {
      try {
        settled[index] = { status: 'fulfilled', value: await work() };
      } catch (reason) {
        settled[index] = { status: 'rejected', reason };
      }
    };
    const now = this.clock.now();
    const waits: Promise<void>[] = [];
    const toHold: Omit<HeldCheck, 'after'>[] = [];
    requests.forEach((request, index) => {
      const { message, headers } = request;
      this.stats.messageReceived();
      if (this.skipReported(message)) {
        settled[index] = { status: 'fulfilled', value: REPORTED };
        return;
      }
      const state = readPollState(this.schedule, message, headers);
      const due = dueAt(this.schedule, message, state);
      if (due - now > this.batchHoldMs) {
        waits.push(settle(index, () => this.waitInTier(message, state, due, headers, now)));
      } else {
        toHold.push({ index, request, state, due });
      }
    });
    // Checked in due order; a later message of the same operation only after the earlier one's check.
    toHold.sort((a, b) => a.due - b.due);
    const lastCheckOf = new Map<string, Promise<unknown>>();
    const checks: { held: HeldCheck; done: () => void }[] = toHold.map((item) => {
      let done = (): void => undefined;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const key = item.request.message.operationId;
      const held = { ...item, after: lastCheckOf.get(key) };
      lastCheckOf.set(key, finished);
      return { held, done };
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let item = checks[next++]; item !== undefined; item = checks[next++]) {
        const { held, done } = item;
        try {
          await held.after;
          // The hold inside `settle` too: whatever fails, every message gets an outcome and no worker outlives
          // the batch (the runner commits the batch's offsets once this resolves).
          await settle(held.index, async () => {
            await this.holdUntil(held.due);
            return this.check(held.request.message, held.state, held.due, held.request.headers);
          });
        } finally {
          done();
        }
      }
    };
    const workers = Math.min(this.batchCheckConcurrency, checks.length);
    await Promise.all([...waits, ...Array.from({ length: workers }, worker)]);
    return settled;
  }

  private async waitInTier(
    message: SendNotificationOperationIdentifier,
    state: PollState,
    due: number,
    headers: Readonly<Record<string, string>>,
    now: number,
  ): Promise<PollOutcome> {
    const tierMs = tierFor(this.tiers, due - now);
    const until = roundUp(Math.min(due, now + tierMs), this.dueGranularityMs);
    await this.outbox.waitInTier(tierMs, until, message, pollStateHeaders(state, headers));
    this.stats.waiting(tierMs);
    return { action: 'waiting', tierMs, until };
  }

  private async holdUntil(due: number): Promise<void> {
    const remaining = due - this.clock.now();
    if (remaining <= 0) return;
    this.stats.heldInProcess();
    // Timers may fire a millisecond early by the wall clock: never check before the due time.
    for (let left = remaining; left > 0; left = due - this.clock.now()) await this.clock.sleep(left);
  }

  /** True (and counted) when the final delivery report of the operation is already published. */
  private skipReported(message: SendNotificationOperationIdentifier): boolean {
    if (!this.reported.has(message.operationId)) return false;
    this.stats.skippedReported();
    return true;
  }

  private async check(
    message: SendNotificationOperationIdentifier,
    state: PollState,
    due: number,
    headers: Readonly<Record<string, string>>,
  ): Promise<PollOutcome> {
    // The report may have come in while the message waited for its due time.
    if (this.skipReported(message)) return REPORTED;
    this.stats.checkStarted(this.clock.now() - due);
    try {
      const check = await this.source.getOperationStatus(message.operationId);
      if (check.kind === 'finished') {
        await this.outbox.publishResult({
          notificationId: message.notificationId,
          operationId: message.operationId,
          sendResult: check.sendResult,
        });
        this.stats.resultPublished(check.sendResult, false);
        return { action: 'finished', sendResult: check.sendResult, detail: check.detail };
      }

      const detail = check.kind === 'running' ? check.status : check.detail;
      const now = this.clock.now();
      if (now >= deadlineOf(this.schedule, state)) {
        await this.outbox.publishResult({
          notificationId: message.notificationId,
          operationId: message.operationId,
          sendResult: GIVE_UP_RESULT,
        });
        this.stats.resultPublished(GIVE_UP_RESULT, true);
        this.logger.warn(
          `Gave up on operation ${message.operationId} (notification ${message.notificationId}) after ${state.checks + 1} checks: ` +
            `still ${detail} at the deadline (${new Date(deadlineOf(this.schedule, state)).toISOString()}); published ${GIVE_UP_RESULT}`,
        );
        return { action: 'gave-up', sendResult: GIVE_UP_RESULT, detail };
      }

      const checks = state.checks + 1;
      const nextCheckInMs = nextInterval(this.schedule, checks, check.retryAfterMs);
      await this.outbox.publishRecheck(
        {
          notificationId: message.notificationId,
          operationId: message.operationId,
          lastStatusCheck: formatTimestamp(new Date(now)),
        },
        pollStateHeaders({ checks, nextCheckInMs, firstAcceptedAt: state.firstAcceptedAt }, headers),
      );
      const reason = check.kind === 'running' ? 'running' : 'transient';
      this.stats.rescheduled(reason, detail);
      if (reason === 'transient') this.logTransient(message.operationId, detail, nextCheckInMs);
      return { action: 'recheck', reason, nextCheckInMs, detail };
    } finally {
      this.stats.checkFinished();
    }
  }

  /** During an ACS outage every check fails: one warning per 10 s with a count, not one per operation. */
  private logTransient(operationId: string, detail: string, nextCheckInMs: number): void {
    this.transientSinceLog += 1;
    const now = this.clock.now();
    if (now - this.lastTransientLog < 10_000) return;
    this.logger.warn(
      `ACS status check failed transiently (${this.transientSinceLog} since the last warning); ` +
        `latest: operation ${operationId}: ${detail}; checking again in ${nextCheckInMs} ms`,
    );
    this.lastTransientLog = now;
    this.transientSinceLog = 0;
  }
}
