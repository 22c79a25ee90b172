import { formatTimestamp, type NotificationOrder, type Recipient } from '@notifications/contracts';
import { type OrderRecipient } from './order.model';
import { type ClaimedOrder } from './order.model';

// Kafka's default largest message is 1 MiB (message.max.bytes); stay well below it.
export const MAX_PAST_DUE_MESSAGE_BYTES = 900 * 1024;

function toWireRecipient(recipient: OrderRecipient): Recipient {
  return {
    addressInfo:
      recipient.emailAddress === undefined
        ? []
        : [{ $: 'email', addressType: 'Email', emailAddress: recipient.emailAddress }],
    ...(recipient.nationalIdentityNumber === undefined
      ? {}
      : { nationalIdentityNumber: recipient.nationalIdentityNumber }),
    ...(recipient.organizationNumber === undefined
      ? {}
      : { organizationNumber: recipient.organizationNumber }),
  };
}

/**
 * The `orders.pastdue` message of a claimed order, in the reference's shape. The consumer reads the recipients
 * from the database (the source of truth), so large orders carry `recipients: []` instead of a message beyond
 * Kafka's size limit; smaller ones carry them inline for observers of the topic.
 */
export function toNotificationOrder(order: ClaimedOrder, withRecipients = true): NotificationOrder {
  return {
    id: order.id,
    ...(order.sendersReference === undefined ? {} : { sendersReference: order.sendersReference }),
    requestedSendTime: formatTimestamp(order.requestedSendTime),
    notificationChannel: 'Email',
    ...(order.ignoreReservation === undefined ? {} : { ignoreReservation: order.ignoreReservation }),
    ...(order.resourceId === undefined ? {} : { resourceId: order.resourceId }),
    ...(order.conditionEndpoint === undefined ? {} : { conditionEndpoint: order.conditionEndpoint }),
    creator: { shortName: order.creator },
    created: formatTimestamp(order.created),
    type: 'Notification',
    templates: [
      {
        $: 'email',
        body: order.email.body,
        contentType: order.email.contentType,
        fromAddress: order.email.fromAddress,
        subject: order.email.subject,
        type: 'Email',
      },
    ],
    recipients: withRecipients && order.recipients !== undefined ? order.recipients.map(toWireRecipient) : [],
  };
}
