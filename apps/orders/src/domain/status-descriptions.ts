import { type EmailNotificationResultType, type OrderProcessingStatus } from '@notifications/contracts';

/** Human-readable meaning of each order status (the reference's `processingStatus.description`). */
export const ORDER_STATUS_DESCRIPTIONS: Readonly<Record<OrderProcessingStatus, string>> = {
  Registered: 'Order has been registered and is awaiting requested send time before processing.',
  Processing: 'Order processing is ongoing. Notifications are being generated.',
  Processed: 'Order processing is done. Notifications have been generated and are being sent.',
  Completed: 'Order processing is completed. All notifications have reached a final status.',
  SendConditionNotMet: 'Order processing was stopped due to send condition not being met.',
  Cancelled: 'Order processing was stopped due to order being cancelled.',
};

/** The description of a `Cancelled` order that was halted (rather than cancelled before processing). */
export const HALTED_ORDER_DESCRIPTION =
  'Order was halted: emails not yet sent were withheld; every notification has its result or Cancelled.';

/** The description of an order being halted: some emails may still be on their way to a result. */
export const HALTING_ORDER_DESCRIPTION =
  'Order is being halted: no further email is sent; emails already in flight are reaching their results.';

/** Human-readable meaning of each email result (the reference's `sendStatus.description`). */
export const EMAIL_RESULT_DESCRIPTIONS: Readonly<Record<EmailNotificationResultType, string>> = {
  New: 'The email has been created, but has not been picked up for processing yet.',
  Sending: 'The email is being processed and will be attempted sent shortly.',
  Succeeded: 'The email has been accepted by the third party email service and will be sent shortly.',
  Delivered:
    'The email was delivered to the recipient. No errors reported, making it likely it was received.',
  Failed: 'The email was not sent due to an unspecified failure.',
  Failed_RecipientReserved:
    'The email was not sent because the recipient has reserved themselves from electronic communication.',
  Failed_RecipientNotIdentified:
    "The email was not sent because the recipient's email address was not found.",
  Failed_InvalidEmailFormat:
    "The email was not sent because the recipient's email address is in an invalid format.",
  Failed_SupressedRecipient:
    "The email was not sent because the recipient's email address is suppressed by the email service.",
  Failed_TransientError: 'The email was not sent due to a transient error before it expired.',
  Failed_Bounced:
    'The email hard bounced, which may have happened because the email address does not exist or the domain is invalid.',
  Failed_FilteredSpam: 'The email was identified as spam, and was rejected or blocked (not quarantined).',
  Failed_Quarantined: 'The email was quarantined (as spam, bulk, or phishing).',
  Failed_TTL: 'The email was not delivered within the expected time frame.',
  Cancelled: 'The email was not sent because its order was halted.',
};
