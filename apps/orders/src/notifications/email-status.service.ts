import { Inject, Injectable, Logger } from '@nestjs/common';
import { type EmailNotificationResultType, type SendOperationResult } from '@notifications/contracts';
import { ORDERS_CONFIG } from '../common/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork, type Tx } from '../database/unit-of-work';
import { OrderRepository } from '../orders/order.repository';
import { EmailNotificationRepository, type NotificationState } from './email-notification.repository';
import { decideTransition, isPending } from './email-status.rules';

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

  async apply(update: SendOperationResult): Promise<StatusOutcome> {
    const operationId = update.operationId === '' ? undefined : update.operationId;
    const outcome = await this.uow.run(async (tx): Promise<StatusOutcome> => {
      const state = await this.locate(tx, update.notificationId, operationId);
      if (state === undefined) return { kind: 'unknown-notification' };
      const decision = decideTransition(
        state.result,
        update.sendResult,
        state.expiry.getTime() <= Date.now(),
      );
      switch (decision.kind) {
        case 'ignore':
          if (operationId !== undefined && state.operationId === undefined) {
            await this.notifications.recordOperationId(tx, state.id, operationId);
          }
          return { kind: 'ignored', notificationId: state.id, reason: decision.reason };
        case 'resend':
          await this.notifications.returnToNew(
            tx,
            state.id,
            this.config.notifications.transientResendDelayMs,
            operationId,
          );
          return { kind: 'resend', notificationId: state.id, orderId: state.orderId };
        case 'set':
          await this.notifications.setResult(tx, state.id, decision.result, operationId);
          return {
            kind: 'applied',
            notificationId: state.id,
            orderId: state.orderId,
            result: decision.result,
            orderCompleted: false,
          };
      }
    });
    if (outcome.kind === 'applied' && !isPending(outcome.result)) {
      // After the commit above: of two updates finishing an order's last notifications concurrently, the later
      // check sees both (see OrderRepository.completeIfDone).
      const orderCompleted = await this.orders.completeIfDone(this.uow.autoCommit, outcome.orderId);
      if (orderCompleted) this.logger.log(`Order ${outcome.orderId} completed`);
      return { ...outcome, orderCompleted };
    }
    return outcome;
  }

  /** By notification id; else by operation id (delivery reports), which the sender sets to the notification id. */
  private async locate(
    tx: Tx,
    notificationId: string | undefined,
    operationId: string | undefined,
  ): Promise<NotificationState | undefined> {
    if (notificationId !== undefined) {
      const byId = await this.notifications.lockById(tx, notificationId);
      if (byId !== undefined) return byId;
    }
    if (operationId === undefined) return undefined;
    const byOperation = await this.notifications.lockByOperationId(tx, operationId);
    if (byOperation !== undefined) return byOperation;
    return notificationId === undefined && UUID.test(operationId)
      ? this.notifications.lockById(tx, operationId.toLowerCase())
      : undefined;
  }
}
