import { type SendNotificationOperationIdentifier, type SendOperationResult } from '@notifications/contracts';

/**
 * Everything polling writes. Each method resolves only once the broker has the message, so the consumer commits
 * the input message only after its outcome is durable (at-least-once).
 */
export abstract class PollingOutbox {
  /** A final result to `email.status.updated`. */
  abstract publishResult(result: SendOperationResult): Promise<void>;
  /** A re-check to `email.sending.accepted` (the reference's wire behaviour), with the poll state in headers. */
  abstract publishRecheck(
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void>;
  /** The message into delay tier `tierMs`, to be read again at `dueAt` (epoch ms). */
  abstract waitInTier(
    tierMs: number,
    dueAt: number,
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void>;
}
