import { type EmailNotificationResultType, type EmailSendResult } from '@notifications/contracts';

/** Results during which a notification is still on its way; every other result is final. */
export const PENDING_RESULTS: readonly EmailNotificationResultType[] = ['New', 'Sending', 'Succeeded'];

export function isPending(result: EmailNotificationResultType): boolean {
  return PENDING_RESULTS.includes(result);
}

/** Counted as a success in `notificationsStatusSummary` and the notification list. */
export function isSuccess(result: EmailNotificationResultType): boolean {
  return result === 'Succeeded' || result === 'Delivered';
}

export type StatusDecision =
  | { readonly kind: 'set'; readonly result: EmailNotificationResultType }
  /** Failed_TransientError before expiry: back to New, to be sent again (after any pause). */
  | { readonly kind: 'resend' }
  | { readonly kind: 'ignore'; readonly reason: string };

/**
 * Forward-only transitions. Updates arrive at least once and in any order (a delivery report may overtake the
 * poller's `Succeeded`), so an update is applied only when it moves the notification forward:
 * `New/Sending → Succeeded → Delivered | Failed_*`; a final result is never overwritten; `Delivered` beats a late
 * `Succeeded`; a transient failure of the current send attempt (`Sending`) sends again until expiry.
 */
export function decideTransition(
  current: EmailNotificationResultType,
  incoming: EmailSendResult,
  expired: boolean,
): StatusDecision {
  if (!isPending(current)) return { kind: 'ignore', reason: `${current} is final` };
  switch (incoming) {
    case 'Sending':
      return { kind: 'ignore', reason: 'Sending is not a result' };
    case 'Succeeded':
      return current === 'Succeeded'
        ? { kind: 'ignore', reason: 'already Succeeded' }
        : { kind: 'set', result: 'Succeeded' };
    case 'Failed_TransientError':
      if (current !== 'Sending') {
        return { kind: 'ignore', reason: `a transient failure of an earlier attempt (now ${current})` };
      }
      return expired ? { kind: 'set', result: 'Failed_TransientError' } : { kind: 'resend' };
    case 'Delivered':
    case 'Failed':
    case 'Failed_InvalidEmailFormat':
    case 'Failed_SupressedRecipient':
    case 'Failed_Bounced':
    case 'Failed_FilteredSpam':
    case 'Failed_Quarantined':
      return { kind: 'set', result: incoming };
  }
}
