import { type EmailSendResult } from '@notifications/contracts';

/**
 * SPEC section 4: Event Grid `EmailDeliveryReportReceived` status → result (the reference's
 * `ParseDeliveryStatus`). `Expanded` comes from older ACS documentation; it is mapped like the reference does.
 */
export const DELIVERY_REPORT_RESULTS: Readonly<Record<string, EmailSendResult>> = Object.freeze({
  Delivered: 'Delivered',
  Bounced: 'Failed_Bounced',
  Suppressed: 'Failed_SupressedRecipient',
  FilteredSpam: 'Failed_FilteredSpam',
  Quarantined: 'Failed_Quarantined',
  Failed: 'Failed',
  Expanded: 'Failed',
});

const BY_LOWER_CASE = new Map(
  Object.entries(DELIVERY_REPORT_RESULTS).map(([status, result]) => [status.toLowerCase(), result]),
);

/** The result for a delivery status (any letter case), or undefined for a status SPEC does not know. */
export function resultForDeliveryStatus(status: string): EmailSendResult | undefined {
  return BY_LOWER_CASE.get(status.trim().toLowerCase());
}
