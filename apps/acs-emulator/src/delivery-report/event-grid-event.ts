import { randomUUID } from 'node:crypto';
import type { DeliveryReportStatus } from '../scripting/rule.schema';

/** The Event Grid event type ACS publishes for each recipient of a sent email (a wire constant). */
export const EMAIL_DELIVERY_REPORT_EVENT_TYPE = 'Microsoft.Communication.EmailDeliveryReportReceived';

/** An Event Grid schema event carrying an `AcsEmailDeliveryReportReceivedEventData`. */
export interface EmailDeliveryReportEvent {
  readonly id: string;
  readonly topic: string;
  readonly subject: string;
  readonly data: {
    readonly sender: string;
    readonly recipient: string;
    /** The send operation id. */
    readonly messageId: string;
    readonly internetMessageId: string;
    readonly status: DeliveryReportStatus;
    readonly deliveryStatusDetails: { readonly statusMessage: string };
    readonly deliveryAttemptTimeStamp: string;
  };
  readonly eventType: typeof EMAIL_DELIVERY_REPORT_EVENT_TYPE;
  readonly dataVersion: '1.0';
  readonly metadataVersion: '1';
  readonly eventTime: string;
}

const STATUS_MESSAGES: Readonly<Record<DeliveryReportStatus, string>> = {
  Delivered: 'No error.',
  Suppressed: 'The recipient is on the suppression list of the sender domain.',
  Bounced: 'Permanent failure: the recipient mailbox does not exist.',
  Quarantined: 'The message was quarantined by the recipient mail system.',
  FilteredSpam: 'The message was identified as spam and filtered.',
  Failed: 'The message could not be delivered.',
  Expanded: 'The distribution list was expanded.',
};

/** `resourceId`: the pretend ACS resource (ACS_RESOURCE_ID), which Event Grid puts in `topic`. */
export function deliveryReportEvent(report: {
  resourceId: string;
  operationId: string;
  sender: string;
  recipient: string;
  status: DeliveryReportStatus;
  attemptedAt: number;
  now: number;
}): EmailDeliveryReportEvent {
  return {
    id: randomUUID(),
    topic: report.resourceId,
    subject: `sender/${report.sender}/message/${report.operationId}`,
    data: {
      sender: report.sender,
      recipient: report.recipient,
      messageId: report.operationId,
      internetMessageId: `<${report.operationId}@acs-emulator.local>`,
      status: report.status,
      deliveryStatusDetails: { statusMessage: STATUS_MESSAGES[report.status] },
      deliveryAttemptTimeStamp: new Date(report.attemptedAt).toISOString(),
    },
    eventType: EMAIL_DELIVERY_REPORT_EVENT_TYPE,
    dataVersion: '1.0',
    metadataVersion: '1',
    eventTime: new Date(report.now).toISOString(),
  };
}
