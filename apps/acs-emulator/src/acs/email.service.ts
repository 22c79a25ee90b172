import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK, type Clock } from '../common/clock';
import { DeliveryReportService } from '../delivery-report/delivery-report.service';
import { SlidingWindowRateLimiter } from '../scripting/rate-limiter';
import { RuleBook, type InstalledRule } from '../scripting/rule-book';
import type { Behaviour } from '../scripting/rule.schema';
import { MessageRepository } from '../store/message.repository';
import {
  OperationRepository,
  operationStatus,
  type AcceptedOperation,
  type OperationEntry,
  type OperationError,
  type OperationStatus,
} from '../store/operation.repository';
import type { SendOutcome } from '../store/request-stats';
import {
  EMAIL_DROPPED,
  EMAIL_SUPPRESSED,
  invalidAddressError,
  serverError,
  tooManyRequestsError,
  type AcsError,
} from './acs-error';
import { firstInvalidAddress, recipientAddresses, type EmailMessage } from './email-message.schema';
import { SendSettings } from './send-settings';

/** `EmailSendResult` of the REST API. */
export interface EmailSendResult {
  readonly id: string;
  readonly status: OperationStatus;
  readonly error?: OperationError;
}

export type SendResult =
  | {
      readonly kind: 'accepted';
      readonly result: EmailSendResult;
      /** A repeated `Operation-Id`: the existing operation, nothing sent. */
      readonly replayed: boolean;
      /** Scripted `drop` with `afterAccept`: recorded, but the connection is to be destroyed unanswered. */
      readonly dropConnection: boolean;
    }
  | { readonly kind: 'error'; readonly error: AcsError; readonly outcome: SendOutcome }
  | { readonly kind: 'drop' };

export type PollResult =
  { readonly kind: 'found'; readonly result: EmailSendResult } | { readonly kind: 'notFound' };

const DEFAULT_BEHAVIOUR: Behaviour = { type: 'succeed' };

/**
 * The ACS email semantics, free of HTTP: de-duplication by `Operation-Id`, the scripted behaviours, the
 * sustained rate limit, and operations whose status follows from the clock.
 */
@Injectable()
export class EmailService implements OnApplicationShutdown {
  private readonly shutdown = new AbortController();

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly settings: SendSettings,
    private readonly rules: RuleBook,
    private readonly rateLimiter: SlidingWindowRateLimiter,
    private readonly operations: OperationRepository,
    private readonly messages: MessageRepository,
    private readonly deliveryReports: DeliveryReportService,
  ) {}

  async send(request: {
    message: EmailMessage;
    operationId?: string;
    clientRequestId?: string;
  }): Promise<SendResult> {
    const { message, operationId } = request;
    const invalid = firstInvalidAddress(message);
    if (invalid !== undefined)
      return { kind: 'error', error: invalidAddressError(invalid), outcome: 'badRequest' };

    if (operationId !== undefined) {
      const replay = this.replay(this.operations.notePost(operationId, this.clock.now()));
      if (replay) return replay;
    }

    const addresses = recipientAddresses(message);
    const rule = this.rules.select(addresses);
    const behaviour = rule?.rule.behaviour ?? DEFAULT_BEHAVIOUR;
    if (behaviour.responseDelayMs) {
      try {
        await sleep(behaviour.responseDelayMs, undefined, { signal: this.shutdown.signal });
      } catch {
        return { kind: 'drop' };
      }
    }

    switch (behaviour.type) {
      case 'invalidAddress': {
        const address = addresses.find((candidate) => rule?.pattern.test(candidate)) ?? addresses[0] ?? '';
        return { kind: 'error', error: invalidAddressError(address), outcome: 'badRequest' };
      }
      case 'throttle':
        return {
          kind: 'error',
          error: tooManyRequestsError(behaviour.retryAfterSeconds ?? 1),
          outcome: 'throttled',
        };
      case 'serverError':
        return {
          kind: 'error',
          error: serverError(behaviour.status ?? 503, behaviour.retryAfterSeconds),
          outcome: 'serverError',
        };
      case 'drop':
        if (!behaviour.afterAccept) return { kind: 'drop' };
        break;
      case 'succeed':
      case 'fail':
      case 'suppress':
        break;
    }

    const now = this.clock.now();
    if (operationId !== undefined && behaviour.responseDelayMs) {
      // While this request waited, another one with the same id may have been accepted.
      const existing = this.operations.get(operationId);
      const replay = existing && this.replay(existing);
      if (replay) return replay;
    }

    const limit = this.rateLimiter.tryAcquire(now);
    if (!limit.allowed) {
      return { kind: 'error', error: tooManyRequestsError(limit.retryAfterSeconds), outcome: 'rateLimited' };
    }

    const entry =
      operationId === undefined
        ? this.operations.notePost(randomUUID(), now)
        : (this.operations.get(operationId) ?? this.operations.notePost(operationId, now));
    const operation = this.accept(entry, request, behaviour, rule, addresses, now);
    // A new operation is never reported terminal in the 202, as ACS answers "Running" to every accepted send.
    const status = operationStatus(operation, now) === 'NotStarted' ? 'NotStarted' : 'Running';
    return {
      kind: 'accepted',
      result: { id: entry.id, status },
      replayed: false,
      dropConnection: behaviour.type === 'drop',
    };
  }

  poll(operationId: string): PollResult {
    const operation = this.operations.get(operationId)?.accepted;
    if (operation === undefined) return { kind: 'notFound' };
    return { kind: 'found', result: this.resultOf(operationId, operation) };
  }

  onApplicationShutdown(): void {
    this.shutdown.abort();
  }

  private replay(entry: OperationEntry): SendResult | undefined {
    if (entry.accepted === undefined || !this.settings.deduplicateOperationIds) return undefined;
    return {
      kind: 'accepted',
      result: this.resultOf(entry.id, entry.accepted),
      replayed: true,
      dropConnection: false,
    };
  }

  private resultOf(id: string, operation: AcceptedOperation): EmailSendResult {
    const status = operationStatus(operation, this.clock.now());
    return status === 'Failed' && operation.error ? { id, status, error: operation.error } : { id, status };
  }

  private accept(
    entry: OperationEntry,
    request: { message: EmailMessage; clientRequestId?: string },
    behaviour: Behaviour,
    rule: InstalledRule | undefined,
    addresses: readonly string[],
    now: number,
  ): AcceptedOperation {
    const timing: { delayMs?: number; notStartedMs?: number } =
      behaviour.type === 'succeed' || behaviour.type === 'fail' || behaviour.type === 'suppress'
        ? behaviour
        : {};
    const delayMs = timing.delayMs ?? this.settings.operationDelayMs;
    const notStartedMs = Math.min(timing.notStartedMs ?? 0, delayMs);
    const failure = failureOf(behaviour);
    const messageSeq = this.messages.append(request.message, {
      operationId: entry.id,
      receivedAt: now,
      ...(request.clientRequestId === undefined ? {} : { clientRequestId: request.clientRequestId }),
      ...(rule === undefined ? {} : { ruleId: rule.id }),
    });
    const operation: AcceptedOperation = {
      acceptedAt: now,
      startsAt: now + notStartedMs,
      completesAt: now + delayMs,
      outcome: failure ? 'Failed' : 'Succeeded',
      ...(failure ? { error: failure } : {}),
      ...(rule === undefined ? {} : { ruleId: rule.id }),
      messageSeq,
    };
    this.operations.accept(entry, operation);
    if (!failure) {
      this.deliveryReports.onSucceeded({
        operationId: entry.id,
        sender: request.message.senderAddress,
        recipients: addresses,
        completesAt: operation.completesAt,
        ...(rule === undefined
          ? {}
          : {
              rule: {
                pattern: rule.pattern,
                mix: behaviour.type === 'succeed' ? behaviour.deliveryReport : undefined,
              },
            }),
      });
    }
    return operation;
  }
}

function failureOf(behaviour: Behaviour): OperationError | undefined {
  if (behaviour.type === 'suppress') return EMAIL_SUPPRESSED;
  if (behaviour.type !== 'fail') return undefined;
  return {
    code: behaviour.error?.code ?? EMAIL_DROPPED.code,
    message: behaviour.error?.message ?? EMAIL_DROPPED.message,
  };
}
