import { type EmailSendResult } from '@notifications/contracts';

/**
 * Delivery-report results after which no poll can change what `orders` records: each is final under its
 * forward-only rules (`decideTransition`: a final result is never overwritten, `Delivered` beats a late
 * `Succeeded`). `Succeeded`, `Sending` and `Failed_TransientError` (which makes orders send again) are not.
 */
const RESULTS_THAT_END_POLLING: ReadonlySet<EmailSendResult> = new Set<EmailSendResult>([
  'Delivered',
  'Failed',
  'Failed_Bounced',
  'Failed_SupressedRecipient',
  'Failed_FilteredSpam',
  'Failed_Quarantined',
  'Failed_InvalidEmailFormat',
]);

export function endsPolling(result: EmailSendResult): boolean {
  return RESULTS_THAT_END_POLLING.has(result);
}

/**
 * The operation ids whose final delivery report this replica has published recently, so that their status check
 * can be skipped: at campaign scale the report usually arrives before the check is due, and the check's
 * `Succeeded` would be ignored by `orders` anyway.
 *
 * Best effort on purpose: bounded to `capacity` ids (the oldest are forgotten first), in this replica's memory only
 * (a report may reach another replica; a restart forgets everything). A miss only means the operation is polled as
 * before, so nothing here is needed for correctness — an id is remembered only once its report's result is on the
 * broker, so a skipped check never leaves a notification without a final status.
 */
export class ReportedOperations {
  private readonly ids = new Set<string>();
  /** Insertion order, as a ring: the slot to overwrite next holds the oldest id. */
  private readonly ring: (string | undefined)[];
  private next = 0;

  /** `capacity` 0 remembers nothing (every operation is polled). */
  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Call only after `result` for `operationId` is durable on `email.status.updated`. */
  remember(operationId: string, result: EmailSendResult): void {
    if (this.capacity === 0 || operationId === '' || !endsPolling(result) || this.ids.has(operationId))
      return;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = operationId;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(operationId);
  }

  has(operationId: string): boolean {
    return this.ids.has(operationId);
  }
}
