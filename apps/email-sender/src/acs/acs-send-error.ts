import { isRestError, type RestError } from '@azure/core-rest-pipeline';
import { type EmailSendResult } from '@notifications/contracts';
import { parseRetryAfterMs, ServiceBusyError, TooManyRequestsError } from './acs-pipeline.policies';

/** The send results a refused send maps to (SPEC section 4). */
export type RejectedSendResult = Extract<
  EmailSendResult,
  'Failed' | 'Failed_InvalidEmailFormat' | 'Failed_SupressedRecipient'
>;

/** Why a send did not go through, and so what to do about it. */
export type SendFailure =
  /** ACS refused this email for good: publish the result, never retry. */
  | { readonly kind: 'rejected'; readonly sendResult: RejectedSendResult; readonly reason: string }
  /** 429: pause all sending, publish the rate-limit signal, then Failed_TransientError. */
  | { readonly kind: 'throttled'; readonly retryAfterMs: number | undefined; readonly reason: string }
  /**
   * 5xx, no response, timeout, or our credentials refused: try again later. `outage` is true when ACS itself did
   * not answer usefully (5xx after the SDK's retries, 503 with Retry-After, 408, a refused, reset or timed-out
   * connection): that says nothing about the email, so the consumer pauses instead of spending its attempts
   * (EmailSendingService). Refused credentials and a 412 to a fresh request are ours to fix: attempts are spent.
   */
  | {
      readonly kind: 'unavailable';
      readonly retryAfterMs: number | undefined;
      readonly reason: string;
      readonly outage?: boolean;
    };

// ACS's error code for a send whose every recipient is on the suppression list.
const SUPPRESSED = 'EmailDroppedAllRecipientsSuppressed';
// The message ACS gives for a malformed address (the reference matches on this text, as we do).
const INVALID_ADDRESS = 'Invalid format for email address';

function describe(error: RestError): string {
  const status = error.statusCode === undefined ? 'no response' : `HTTP ${error.statusCode}`;
  const code = errorCodeOf(error);
  // ACS messages name at most the address, never the body; keep them short for logs and headers.
  const message = error.message.length > 200 ? `${error.message.slice(0, 199)}…` : error.message;
  return `ACS send failed (${status}${code ? `, ${code}` : ''}): ${message}`;
}

function errorCodeOf(error: RestError): string | undefined {
  return error.code ?? error.response?.headers.get('x-ms-error-code') ?? undefined;
}

/**
 * SPEC section 4: 429 / TooManyRequests → Failed_TransientError plus the rate-limit signal;
 * EmailDroppedAllRecipientsSuppressed → Failed_SupressedRecipient; "Invalid format for email address" →
 * Failed_InvalidEmailFormat; 5xx or no response → Failed_TransientError (after our retries); anything else →
 * Failed.
 *
 * One deliberate exception to "anything else": 401 and 403 mean ACS refused *our* credentials (a wrong or
 * rotated access key), not the email. Marking every email Failed — a final status — during a key mix-up would
 * lose them all, so they are retried like an outage and end as Failed_TransientError, which `orders` sends
 * again until the notification expires.
 */
export function classifySendError(error: unknown): SendFailure {
  if (error instanceof TooManyRequestsError) {
    return { kind: 'throttled', retryAfterMs: error.retryAfterMs, reason: error.message };
  }
  if (error instanceof ServiceBusyError) {
    return { kind: 'unavailable', retryAfterMs: error.retryAfterMs, reason: error.message, outage: true };
  }
  if (isRestError(error)) {
    const status = error.statusCode;
    const code = errorCodeOf(error);
    const reason = describe(error);
    if (status === 429 || code === 'TooManyRequests') {
      const retryAfterMs = error.response ? parseRetryAfterMs(error.response.headers) : undefined;
      return { kind: 'throttled', retryAfterMs, reason };
    }
    if (code === SUPPRESSED) return { kind: 'rejected', sendResult: 'Failed_SupressedRecipient', reason };
    if (error.message.includes(INVALID_ADDRESS)) {
      return { kind: 'rejected', sendResult: 'Failed_InvalidEmailFormat', reason };
    }
    if (status === undefined || status === 0 || status >= 500 || status === 408) {
      return { kind: 'unavailable', retryAfterMs: undefined, reason, outage: true };
    }
    if (status === 401 || status === 403) {
      return {
        kind: 'unavailable',
        retryAfterMs: undefined,
        reason: `${reason} (ACS refused our credentials: check ACS_CONNECTION_STRING)`,
      };
    }
    return { kind: 'rejected', sendResult: 'Failed', reason };
  }
  // An AbortError from a timeout the SDK gave up on, or a socket error outside the pipeline's retries.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    kind: 'unavailable',
    retryAfterMs: undefined,
    reason: `ACS send failed: ${message}`,
    outage: true,
  };
}
