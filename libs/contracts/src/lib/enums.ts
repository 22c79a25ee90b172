// String enums of the wire format. The spellings are the .NET reference's member names and must match
// byte for byte on the wire, misspellings included — do not "fix" them.

export const EmailContentType = ['Plain', 'Html'] as const;
export type EmailContentType = (typeof EmailContentType)[number];

// 'Failed_SupressedRecipient' (one p) is the reference's spelling.
export const EmailSendResult = [
  'Sending',
  'Succeeded',
  'Delivered',
  'Failed',
  'Failed_InvalidEmailFormat',
  'Failed_SupressedRecipient',
  'Failed_TransientError',
  'Failed_Bounced',
  'Failed_FilteredSpam',
  'Failed_Quarantined',
] as const;
export type EmailSendResult = (typeof EmailSendResult)[number];

// The results `orders` stores per email notification: the send results plus its own (reference spellings).
export const EmailNotificationResultType = [
  'New',
  'Sending',
  'Succeeded',
  'Delivered',
  'Failed',
  'Failed_RecipientReserved',
  'Failed_RecipientNotIdentified',
  'Failed_InvalidEmailFormat',
  'Failed_SupressedRecipient',
  'Failed_TransientError',
  'Failed_Bounced',
  'Failed_FilteredSpam',
  'Failed_Quarantined',
  'Failed_TTL',
  // New in this project (not the reference's): a notification of a halted order that was never sent.
  'Cancelled',
] as const;
export type EmailNotificationResultType = (typeof EmailNotificationResultType)[number];

// Reference order status names.
export const OrderProcessingStatus = [
  'Registered',
  'Processing',
  'Processed',
  'Completed',
  'SendConditionNotMet',
  'Cancelled',
] as const;
export type OrderProcessingStatus = (typeof OrderProcessingStatus)[number];

/** Order statuses after which nothing more happens to the order (its progress stream ends with one). */
export const FINAL_ORDER_STATUSES: readonly OrderProcessingStatus[] = [
  'Completed',
  'SendConditionNotMet',
  'Cancelled',
];

export function isFinalOrderStatus(status: OrderProcessingStatus): boolean {
  return FINAL_ORDER_STATUSES.includes(status);
}

// Reference channel names.
export const NotificationChannel = ['Email', 'Sms', 'EmailPreferred', 'SmsPreferred', 'EmailAndSms'] as const;
export type NotificationChannel = (typeof NotificationChannel)[number];

// Reference sending-time policy names.
export const SendingTimePolicy = ['Anytime', 'Daytime'] as const;
export type SendingTimePolicy = (typeof SendingTimePolicy)[number];

// Reference order type names.
export const OrderType = ['Notification', 'Reminder', 'Instant'] as const;
export type OrderType = (typeof OrderType)[number];

// 'Unkown' (sic) is the reference's spelling and its default member (value 0).
export const GenericServiceUpdateSchema = ['ResourceLimitExceeded', 'Unkown'] as const;
export type GenericServiceUpdateSchema = (typeof GenericServiceUpdateSchema)[number];

// The `source` the reference email service stamps on its service updates; the orders side matches on it.
export const ServiceUpdateSource = ['platform-notifications-email'] as const;
export type ServiceUpdateSource = (typeof ServiceUpdateSource)[number];
