import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type EmailNotificationResultType,
  type EmailWithheld,
  type SendOperationResult,
} from '@notifications/contracts';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork } from '../store/unit-of-work';
import { OrderRepository } from '../store/order.repository';
import {
  EmailNotificationRepository,
  type NotificationState,
  type StatusChange,
} from '../store/email-notification.repository';
import { decideTransition, decideWithheld, isPending } from '../domain/email-status.rules';

export type StatusOutcome =
  | {
      readonly kind: 'applied';
      readonly notificationId: string;
      readonly orderId: string;
      readonly result: EmailNotificationResultType;
      readonly orderCompleted: boolean;
    }
  | { readonly kind: 'resend'; readonly notificationId: string; readonly orderId: string }
  | { readonly kind: 'ignored'; readonly notificationId: string; readonly reason: string }
  | { readonly kind: 'unknown-notification' };

export interface StatusBatchResult {
  /** One per update, in the order of the updates. */
  readonly outcomes: readonly StatusOutcome[];
  /** Orders this batch completed. */
  readonly completedOrders: readonly string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Applies `SendOperationResult`s to email notifications (forward-only) and completes finished orders. */
@Injectable()
export class EmailStatusService {
  private readonly logger = new Logger(EmailStatusService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly notifications: EmailNotificationRepository,
    private readonly orders: OrderRepository,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  /** Applies one update: {@link applyBatch} of one. */
  async apply(update: SendOperationResult): Promise<StatusOutcome> {
    const { outcomes, completedOrders } = await this.applyBatch([update]);
    const outcome = outcomes[0] ?? { kind: 'unknown-notification' };
    return outcome.kind === 'applied' && completedOrders.includes(outcome.orderId)
      ? { ...outcome, orderCompleted: true }
      : outcome;
  }

  /**
   * Applies a batch of updates (in the order given: offset order) in one transaction: one statement locks every
   * notification they name (a second one only for updates whose notification id is unknown but that carry an
   * operation id), the forward-only rules run here in order per notification (several updates for one notification
   * compose as if applied one after another), and one statement writes every changed notification. Then, after the
   * commit, one statement completes the affected orders with nothing pending (see OrderRepository.completeIfDone for
   * why after the commit). Idempotent: a redelivered batch finds its results already in place and changes nothing.
   * Returns one outcome per update, in the same order (`orderCompleted` is left false; see `completedOrders`).
   */
  async applyBatch(updates: readonly SendOperationResult[]): Promise<StatusBatchResult> {
    if (updates.length === 0) return { outcomes: [], completedOrders: [] };
    const requests = updates.map((update) => ({
      notificationId: update.notificationId?.toLowerCase(),
      operationId: update.operationId === '' ? undefined : update.operationId,
      sendResult: update.sendResult,
    }));
    const outcomes = await this.uow.run(async (tx): Promise<StatusOutcome[]> => {
      const located = new Located();
      // Like `locate` of one update: by notification id; else by operation id, which the sender sets to the
      // notification id (so an operation-id-only report whose operation id is a UUID is also looked up by id).
      const ids = new Set<string>();
      const operationIds = new Set<string>();
      for (const { notificationId, operationId } of requests) {
        if (notificationId !== undefined) ids.add(notificationId);
        else if (operationId !== undefined) {
          operationIds.add(operationId);
          if (UUID.test(operationId)) ids.add(operationId.toLowerCase());
        }
      }
      located.add(await this.notifications.lockForStatus(tx, [...ids], [...operationIds]));
      const missed = new Set<string>();
      for (const { notificationId, operationId } of requests) {
        if (notificationId !== undefined && operationId !== undefined && !located.byId.has(notificationId))
          missed.add(operationId);
      }
      if (missed.size > 0) located.add(await this.notifications.lockForStatus(tx, [], [...missed]));

      const now = Date.now();
      const working = new Map<string, WorkingState>();
      const outcomes = requests.map((request): StatusOutcome => {
        const state = located.locate(request.notificationId, request.operationId);
        if (state === undefined) return { kind: 'unknown-notification' };
        let current = working.get(state.id);
        if (current === undefined) {
          current = {
            result: state.result,
            operationId: state.operationId,
            changed: false,
            resultChanged: false,
            resend: false,
          };
          working.set(state.id, current);
        }
        const { operationId } = request;
        const decision = decideTransition(
          current.result,
          request.sendResult,
          state.expiry.getTime() <= now,
          state.halted,
        );
        switch (decision.kind) {
          case 'ignore':
            if (operationId !== undefined && current.operationId === undefined) {
              current.operationId = operationId;
              current.changed = true;
            }
            return { kind: 'ignored', notificationId: state.id, reason: decision.reason };
          case 'resend':
            current.result = 'New';
            current.operationId = operationId ?? current.operationId;
            current.changed = current.resultChanged = current.resend = true;
            return { kind: 'resend', notificationId: state.id, orderId: state.orderId };
          case 'set':
            current.result = decision.result;
            current.operationId = operationId ?? current.operationId;
            current.changed = current.resultChanged = true;
            return {
              kind: 'applied',
              notificationId: state.id,
              orderId: state.orderId,
              result: decision.result,
              orderCompleted: false,
            };
        }
      });
      const changes: StatusChange[] = [];
      for (const [id, state] of working) {
        if (!state.changed) continue;
        changes.push({
          id,
          result: state.result,
          resultChanged: state.resultChanged,
          resend: state.resend,
          operationId: state.operationId,
        });
      }
      await this.notifications.applyStatusChanges(
        tx,
        changes,
        this.config.notifications.transientResendDelayMs,
      );
      return outcomes;
    });
    const finishedOrders = new Set<string>();
    for (const outcome of outcomes) {
      if (outcome.kind === 'applied' && !isPending(outcome.result)) finishedOrders.add(outcome.orderId);
    }
    // After the commit above: of two batches finishing an order's last notifications concurrently, the later
    // check sees both (see OrderRepository.completeIfDone).
    const completedOrders = await this.orders.completeManyIfDone(this.uow.autoCommit, [...finishedOrders]);
    for (const orderId of completedOrders) this.logger.log(`Order ${orderId} completed`);
    return { outcomes, completedOrders };
  }
  /**
   * email-sender withheld these emails because their order was halted (README "Halt"): `New`/`Sending` →
   * `Cancelled` in one transaction (a result of its own is never replaced), then the orders with nothing pending
   * end `Cancelled`. A report for an unknown notification is not ours (every email is published after its
   * notification exists) and is ignored. Idempotent. Returns how many notifications it cancelled.
   */
  async applyWithheld(reports: readonly EmailWithheld[]): Promise<number> {
    if (reports.length === 0) return 0;
    const ids = [...new Set(reports.map((report) => report.notificationId.toLowerCase()))];
    const cancelled = await this.uow.run(async (tx) => {
      const states = await this.notifications.lockForStatus(tx, ids, []);
      const changes: StatusChange[] = [];
      for (const state of states) {
        const decision = decideWithheld(state.result);
        if (decision.kind !== 'set') continue;
        changes.push({
          id: state.id,
          result: decision.result,
          resultChanged: true,
          resend: false,
          operationId: undefined,
        });
      }
      await this.notifications.applyStatusChanges(
        tx,
        changes,
        this.config.notifications.transientResendDelayMs,
      );
      return { count: changes.length, orders: [...new Set(states.map((state) => state.orderId))] };
    });
    const completed = await this.orders.completeManyIfDone(this.uow.autoCommit, cancelled.orders);
    for (const orderId of completed) this.logger.log(`Halted order ${orderId} ended Cancelled`);
    return cancelled.count;
  }
}

interface WorkingState {
  result: EmailNotificationResultType;
  operationId: string | undefined;
  /** Anything to write (a result, or an operation id recorded on an ignored update). */
  changed: boolean;
  resultChanged: boolean;
  resend: boolean;
}

/** The notifications a batch locked, by id and by operation id (the latest notification of each). */
class Located {
  readonly byId = new Map<string, NotificationState>();
  private readonly byOperation = new Map<string, { state: NotificationState; resultTime: number }>();

  add(states: readonly (NotificationState & { readonly resultTime: Date })[]): void {
    for (const state of states) {
      this.byId.set(state.id, state);
      if (state.operationId === undefined) continue;
      const seen = this.byOperation.get(state.operationId);
      if (seen === undefined || seen.resultTime < state.resultTime.getTime())
        this.byOperation.set(state.operationId, { state, resultTime: state.resultTime.getTime() });
    }
  }

  locate(notificationId: string | undefined, operationId: string | undefined): NotificationState | undefined {
    if (notificationId !== undefined) {
      const byId = this.byId.get(notificationId);
      if (byId !== undefined) return byId;
    }
    if (operationId === undefined) return undefined;
    const byOperation = this.byOperation.get(operationId);
    if (byOperation !== undefined) return byOperation.state;
    return notificationId === undefined && UUID.test(operationId)
      ? this.byId.get(operationId.toLowerCase())
      : undefined;
  }
}
