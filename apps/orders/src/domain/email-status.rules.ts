import { type EmailNotificationResultType, type EmailSendResult } from '@notifications/contracts';

/** Results during which a notification is still on its way; every other result is final. */
export const PENDING_RESULTS: readonly EmailNotificationResultType[] = ['New', 'Sending', 'Succeeded'];

export function isPending(result: EmailNotificationResultType): boolean {
  return PENDING_RESULTS.includes(result);
}

/** Not yet handed to ACS as far as orders knows: what a halt may still withhold. */
export const UNSENT_RESULTS: readonly EmailNotificationResultType[] = ['New', 'Sending'];

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
 * Forward-only transitions (README "Halt" for `halted` and `Cancelled`). Updates arrive at least once and in any order (a delivery report may overtake the
 * poller's `Succeeded`), so an update is applied only when it moves the notification forward:
 * `New/Sending → Succeeded → Delivered | Failed_*`; a final result is never overwritten; `Delivered` beats a late
 * `Succeeded`; a transient failure of the current send attempt (`Sending`) sends again until expiry — except in a
 * halted order, where it ends `Cancelled` (never sent again). `Cancelled` is final but yields to a real send
 * result, see {@link replaceCancelled}.
 */
export function decideTransition(
  current: EmailNotificationResultType,
  incoming: EmailSendResult,
  expired: boolean,
  halted = false,
): StatusDecision {
  if (current === 'Cancelled') return replaceCancelled(incoming);
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
      if (halted) return { kind: 'set', result: 'Cancelled' };
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

/**
 * A `Cancelled` notification (its order was halted before orders knew it was sent) meets a send result: the email
 * did reach ACS after all — a publish the outbox relay had given up on can still land on Kafka and be sent before
 * the halt record — so the real result replaces `Cancelled`: what was sent is never reported withheld. A transient
 * failure means it was not sent, so `Cancelled` stays.
 */
function replaceCancelled(incoming: EmailSendResult): StatusDecision {
  switch (incoming) {
    case 'Sending':
      return { kind: 'ignore', reason: 'Sending is not a result' };
    case 'Failed_TransientError':
      return { kind: 'ignore', reason: 'Cancelled, and this attempt was not sent' };
    case 'Succeeded':
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

/**
 * email-sender withheld the email because its order was halted: `New`/`Sending` → `Cancelled`. Anything else
 * already has a result of its own (a send result is never replaced by `Cancelled`), or is `Cancelled` already.
 */
export function decideWithheld(current: EmailNotificationResultType): StatusDecision {
  return UNSENT_RESULTS.includes(current)
    ? { kind: 'set', result: 'Cancelled' }
    : { kind: 'ignore', reason: `${current} stays (withheld reports never replace a result)` };
}
