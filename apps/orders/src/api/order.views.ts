import {
  formatTimestamp,
  type EmailNotificationSummaryResponse,
  type HaltedResponse,
  type NotificationOrderResponse,
  type OrderIdResponse,
  type OrderWithStatusResponse,
} from '@notifications/contracts';
import { isSuccess } from '../domain/email-status.rules';
import {
  type EmailNotificationView,
  type EmailOrder,
  haltCounts,
  type NotificationCounts,
  type OrderRecipient,
  type RecipientLookupSummary,
} from '../domain/order.model';
import {
  EMAIL_RESULT_DESCRIPTIONS,
  HALTED_ORDER_DESCRIPTION,
  HALTING_ORDER_DESCRIPTION,
  ORDER_STATUS_DESCRIPTIONS,
} from '../domain/status-descriptions';

// Mapping from the domain to the API's JSON (camelCase, absent instead of null, enums as strings).

export const API_BASE_PATH = '/notifications/api/v1';

export function orderUrl(baseUrl: string, id: string): string {
  return `${baseUrl}${API_BASE_PATH}/orders/${id}`;
}

function orderFields(order: EmailOrder) {
  return {
    id: order.id,
    creator: order.creator,
    ...(order.sendersReference === undefined ? {} : { sendersReference: order.sendersReference }),
    requestedSendTime: formatTimestamp(order.requestedSendTime),
    created: formatTimestamp(order.created),
    notificationChannel: 'Email' as const,
    ...(order.ignoreReservation === undefined ? {} : { ignoreReservation: order.ignoreReservation }),
    ...(order.resourceId === undefined ? {} : { resourceId: order.resourceId }),
    ...(order.conditionEndpoint === undefined ? {} : { conditionEndpoint: order.conditionEndpoint }),
  };
}

function recipientView(recipient: OrderRecipient) {
  return {
    ...(recipient.emailAddress === undefined ? {} : { emailAddress: recipient.emailAddress }),
    ...(recipient.nationalIdentityNumber === undefined
      ? {}
      : { nationalIdentityNumber: recipient.nationalIdentityNumber }),
    ...(recipient.organizationNumber === undefined
      ? {}
      : { organizationNumber: recipient.organizationNumber }),
  };
}

export function orderIdView(id: string, lookup: RecipientLookupSummary | undefined): OrderIdResponse {
  return {
    orderId: id,
    ...(lookup === undefined
      ? {}
      : {
          recipientLookup: {
            status: lookup.status,
            ...(lookup.isReserved.length === 0 ? {} : { isReserved: [...lookup.isReserved] }),
            ...(lookup.missingContact.length === 0 ? {} : { missingContact: [...lookup.missingContact] }),
          },
        }),
  };
}

export function orderView(order: EmailOrder, baseUrl: string): NotificationOrderResponse {
  const self = orderUrl(baseUrl, order.id);
  return {
    ...orderFields(order),
    recipients: order.recipients.map(recipientView),
    emailTemplate: { ...order.email },
    links: { self, status: `${self}/status` },
  };
}

export function orderWithStatusView(
  order: EmailOrder,
  counts: NotificationCounts,
  baseUrl: string,
): OrderWithStatusResponse {
  return {
    ...orderFields(order),
    processingStatus: {
      status: order.processingStatus,
      description: statusDescription(order),
      lastUpdate: formatTimestamp(order.statusChanged),
    },
    ...haltedView(order, counts),
    notificationsStatusSummary: {
      email: {
        links: { self: `${orderUrl(baseUrl, order.id)}/notifications/email` },
        generated: counts.generated,
        succeeded: counts.succeeded,
      },
    },
  };
}

export function emailNotificationsView(
  order: EmailOrder,
  counts: NotificationCounts,
  notifications: readonly EmailNotificationView[],
): EmailNotificationSummaryResponse {
  return {
    orderId: order.id,
    ...(order.sendersReference === undefined ? {} : { sendersReference: order.sendersReference }),
    generated: counts.generated,
    succeeded: counts.succeeded,
    ...haltedView(order, counts),
    notifications: notifications.map((notification) => ({
      id: notification.id,
      succeeded: isSuccess(notification.result),
      recipient: recipientView({
        ...(notification.toAddress === undefined ? {} : { emailAddress: notification.toAddress }),
        ...(notification.nationalIdentityNumber === undefined
          ? {}
          : { nationalIdentityNumber: notification.nationalIdentityNumber }),
        ...(notification.organizationNumber === undefined
          ? {}
          : { organizationNumber: notification.organizationNumber }),
      }),
      sendStatus: {
        status: notification.result,
        description: EMAIL_RESULT_DESCRIPTIONS[notification.result],
        lastUpdate: formatTimestamp(notification.resultTime),
      },
    })),
  };
}

/** A send condition that could not be evaluated ends the order too: the description says why. */
function statusDescription(order: EmailOrder): string {
  if (order.haltedAt !== undefined) {
    return order.processingStatus === 'Cancelled' ? HALTED_ORDER_DESCRIPTION : HALTING_ORDER_DESCRIPTION;
  }
  const description = ORDER_STATUS_DESCRIPTIONS[order.processingStatus];
  return order.processingStatus === 'SendConditionNotMet' && order.lastError !== undefined
    ? `${description} ${order.lastError}`
    : description;
}

/** The `halted` member of a halted order's views (README "Halt"). */
export function haltedView(order: EmailOrder, counts: NotificationCounts): { halted?: HaltedResponse } {
  if (order.haltedAt === undefined) return {};
  return { halted: { at: formatTimestamp(order.haltedAt), ...haltCounts(counts) } };
}
