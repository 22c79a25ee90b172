import { Inject, Injectable, Logger } from '@nestjs/common';
import { RepeatableRequests } from '../acs/repeatable-requests';
import { SendSettings } from '../acs/send-settings';
import { CLOCK, type Clock } from '../common/clock';
import { EMULATOR_CONFIG, type EmulatorConfig } from '../config/emulator.config';
import { DeliveryReportService } from '../delivery-report/delivery-report.service';
import { SlidingWindowRateLimiter } from '../scripting/rate-limiter';
import { RuleBook } from '../scripting/rule-book';
import { MessageRepository, type MessageQuery, type StoredMessage } from '../store/message.repository';
import {
  OperationRepository,
  operationStatus,
  type OperationEntry,
  type OperationError,
  type OperationStatus,
} from '../store/operation.repository';
import { RequestStats } from '../store/request-stats';

export interface OperationView {
  readonly id: string;
  /** Absent when every POST with this id was refused (no operation exists). */
  readonly status?: OperationStatus;
  readonly error?: OperationError;
  readonly posts: number;
  readonly messagesRecorded: number;
  readonly firstSeenAt: string;
  readonly acceptedAt?: string;
  readonly completesAt?: string;
  readonly ruleId?: string;
  readonly message?: StoredMessage;
}

/** The inspection and control side of the emulator, behind `/admin`. */
@Injectable()
export class AdminService {
  private readonly logger = new Logger('AcsEmulatorAdmin');
  private statsSince: number;

  constructor(
    @Inject(EMULATOR_CONFIG) private readonly config: EmulatorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    readonly settings: SendSettings,
    readonly rules: RuleBook,
    readonly rateLimiter: SlidingWindowRateLimiter,
    readonly deliveryReports: DeliveryReportService,
    private readonly operations: OperationRepository,
    private readonly messages: MessageRepository,
    private readonly requests: RequestStats,
    private readonly repeatable: RepeatableRequests,
  ) {
    this.statsSince = clock.now();
  }

  stats() {
    const operations = this.operations.counts();
    const messages = this.messages.counts();
    return {
      since: new Date(this.statsSince).toISOString(),
      messages: messages.messages,
      storedMessages: this.messages.size,
      operations: operations.operations,
      distinctOperationIds: operations.distinctOperationIds,
      duplicateSends: operations.duplicateSends,
      notificationsSentMoreThanOnce: operations.notificationsSentMoreThanOnce,
      sameContentMoreThanOnce: messages.sameContentMoreThanOnce,
      operationsByStatus: this.operations.statusCounts(this.clock.now()),
      requests: this.requests.snapshot(),
      rateLimit: { perMinute: this.rateLimiter.perMinute ?? null },
      deliveryReports: this.deliveryReports.counts(),
      evicted: { messages: messages.evicted, operationIds: operations.evicted },
      capacity: { messages: this.config.store.maxMessages },
      memory: memoryMb(),
    };
  }

  /** The page as JSON text (see MessageRepository.queryJson). */
  messagesPageJson(query: MessageQuery): string {
    return this.messages.queryJson(query);
  }

  operation(id: string): OperationView | undefined {
    const entry = this.operations.get(id.toLowerCase());
    return entry && this.view(entry);
  }

  duplicates() {
    const { duplicateSends, sentMoreThanOnce } = this.operations.duplicates();
    const summary = (entry: OperationEntry) => ({
      id: entry.id,
      posts: entry.posts,
      messagesRecorded: entry.messagesRecorded,
    });
    return { duplicateSends: duplicateSends.map(summary), sentMoreThanOnce: sentMoreThanOnce.map(summary) };
  }

  /**
   * Forgets messages, operations, counters, rate-limit window, rule hit counts and pending delivery reports.
   * With `config`, also returns rules and settings to their start-up values.
   */
  reset(config: boolean): void {
    this.operations.clear();
    this.messages.clear();
    this.repeatable.clear();
    this.requests.clear();
    this.deliveryReports.reset(config);
    if (config) {
      this.rules.replace(this.config.scripting.rules);
      this.rules.setBuiltInsEnabled(this.config.scripting.builtInRules);
      this.rateLimiter.setLimit(this.config.scripting.rateLimitPerMinute);
      this.settings.reset();
    } else {
      this.rateLimiter.reset();
    }
    this.rules.resetCounters();
    this.statsSince = this.clock.now();
    this.logger.log(`reset${config ? ' (including configuration)' : ''}`);
  }

  logChange(what: string, value: unknown): void {
    this.logger.log(`${what}: ${JSON.stringify(value)}`);
  }

  private view(entry: OperationEntry): OperationView {
    const accepted = entry.accepted;
    const base = {
      id: entry.id,
      posts: entry.posts,
      messagesRecorded: entry.messagesRecorded,
      firstSeenAt: new Date(entry.firstSeenAt).toISOString(),
    };
    if (accepted === undefined) return base;
    const status = operationStatus(accepted, this.clock.now());
    const message = this.messages.bySeq(accepted.messageSeq);
    return {
      ...base,
      status,
      ...(status === 'Failed' && accepted.error ? { error: accepted.error } : {}),
      acceptedAt: new Date(accepted.acceptedAt).toISOString(),
      completesAt: new Date(accepted.completesAt).toISOString(),
      ...(accepted.ruleId === undefined ? {} : { ruleId: accepted.ruleId }),
      ...(message === undefined ? {} : { message }),
    };
  }
}

/** `arrayBuffersMb`: the typed arrays of the operation and repeatable-request tables, outside the V8 heap. */
function memoryMb(): { heapUsedMb: number; heapTotalMb: number; arrayBuffersMb: number; rssMb: number } {
  const { heapUsed, heapTotal, arrayBuffers, rss } = process.memoryUsage();
  const mb = (bytes: number): number => Math.round(bytes / 1048576);
  return {
    heapUsedMb: mb(heapUsed),
    heapTotalMb: mb(heapTotal),
    arrayBuffersMb: mb(arrayBuffers),
    rssMb: mb(rss),
  };
}
