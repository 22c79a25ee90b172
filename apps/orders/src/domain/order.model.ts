import {
  type EmailContentType,
  type EmailNotificationResultType,
  type OrderProcessingStatus,
} from '@notifications/contracts';

/** A recipient as requested: exactly one of the three identifiers. */
export interface OrderRecipient {
  readonly emailAddress?: string;
  readonly nationalIdentityNumber?: string;
  readonly organizationNumber?: string;
}

export interface EmailTemplate {
  readonly fromAddress: string;
  readonly subject: string;
  readonly body: string;
  readonly contentType: EmailContentType;
}

export type RecipientLookupStatus = 'Success' | 'PartialSuccess' | 'Failed';

/** What the contact-point look-up at creation found (reference: `recipientLookup` of the create response). */
export interface RecipientLookupSummary {
  readonly status: RecipientLookupStatus;
  readonly isReserved: readonly string[];
  readonly missingContact: readonly string[];
}

/** What the service owner asked for: the same on insert and when read back. */
interface EmailOrderRequestFields {
  readonly id: string;
  readonly creator: string;
  readonly sendersReference?: string;
  readonly requestedSendTime: Date;
  readonly created: Date;
  readonly ignoreReservation?: boolean;
  readonly resourceId?: string;
  readonly conditionEndpoint?: string;
  readonly recipients: readonly OrderRecipient[];
  readonly email: EmailTemplate;
  readonly recipientLookup?: RecipientLookupSummary;
}

/** An order as stored. */
export interface EmailOrder extends EmailOrderRequestFields {
  readonly processingStatus: OrderProcessingStatus;
  readonly statusChanged: Date;
  readonly lastError?: string;
  /** Set once the order was halted (README "Halt"). */
  readonly haltedAt?: Date;
}

/** An order as intake expands it: everything but its recipients, which it reads a slice at a time. */
export interface OrderToExpand extends Omit<EmailOrder, 'recipients'> {
  readonly recipientCount: number;
}

/** An order to insert. */
export interface NewEmailOrder extends EmailOrderRequestFields {
  readonly idempotencyKey?: string;
  readonly requestHash?: string;
}

export interface EmailNotificationView {
  readonly id: string;
  readonly toAddress?: string;
  readonly nationalIdentityNumber?: string;
  readonly organizationNumber?: string;
  readonly result: EmailNotificationResultType;
  readonly resultTime: Date;
}

export interface NotificationCounts {
  readonly generated: number;
  readonly succeeded: number;
  /** `Cancelled`: withheld by a halt. */
  readonly cancelled: number;
  /** `New` or `Sending`: not known to be sent yet. */
  readonly unsent: number;
}

export const NO_NOTIFICATIONS: NotificationCounts = { generated: 0, succeeded: 0, cancelled: 0, unsent: 0 };

/** What a halt came to so far (README "Halt"); final once the order is `Cancelled`. */
export interface HaltCounts {
  /** Every notification with a result of its own (sent, or failed before or at sending). */
  readonly sent: number;
  /** `Cancelled`: never sent. */
  readonly withheld: number;
  /** Not settled yet (`New`/`Sending`): 0 once the order is `Cancelled`. */
  readonly inFlight: number;
}

export function haltCounts(counts: NotificationCounts): HaltCounts {
  return {
    sent: counts.generated - counts.cancelled - counts.unsent,
    withheld: counts.cancelled,
    inFlight: counts.unsent,
  };
}

/** A claimed order, with what its `NotificationOrder` message needs. */
export interface ClaimedOrder extends Omit<EmailOrder, 'recipients' | 'processingStatus' | 'statusChanged'> {
  readonly recipientCount: number;
  /** Present when the order has at most the inline limit of recipients. */
  readonly recipients?: readonly OrderRecipient[];
  /** Trace context of the request that created the order (see store/trace-context.ts). */
  readonly traceContext?: string;
}
