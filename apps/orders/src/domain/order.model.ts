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
}

/** A claimed order, with what its `NotificationOrder` message needs. */
export interface ClaimedOrder extends Omit<EmailOrder, 'recipients' | 'processingStatus' | 'statusChanged'> {
  readonly recipientCount: number;
  /** Present when the order has at most the inline limit of recipients. */
  readonly recipients?: readonly OrderRecipient[];
  /** Trace context of the request that created the order (see store/trace-context.ts). */
  readonly traceContext?: string;
}
