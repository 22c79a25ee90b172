import { type EmailSendResult } from '@notifications/contracts';

/** What one status check found out. */
export type OperationCheck =
  /** Terminal: publish this result. */
  | { readonly kind: 'finished'; readonly sendResult: EmailSendResult; readonly detail: string }
  /** `NotStarted` / `Running`: check again later (not before `retryAfterMs`). */
  | { readonly kind: 'running'; readonly status: string; readonly retryAfterMs?: number }
  /** ACS could not answer (5xx, 429, network, timeout, auth): check again later. */
  | { readonly kind: 'transient'; readonly detail: string; readonly retryAfterMs?: number };

/** Where status checks come from (the polling service's only view of ACS). */
export abstract class OperationStatusSource {
  abstract getOperationStatus(operationId: string): Promise<OperationCheck>;
}

export interface AcsError {
  readonly code?: string;
  readonly message?: string;
}

/**
 * SPEC section 4's ACS error → result mapping, applied to a failed operation's `error`:
 * `EmailDroppedAllRecipientsSuppressed` → Failed_SupressedRecipient, "Invalid format for email address" →
 * Failed_InvalidEmailFormat, `TooManyRequests` → Failed_TransientError, anything else → Failed.
 */
export function mapAcsError(error: AcsError | undefined): EmailSendResult {
  if (error?.code === 'EmailDroppedAllRecipientsSuppressed') return 'Failed_SupressedRecipient';
  if (error?.code === 'TooManyRequests') return 'Failed_TransientError';
  if (error?.message?.includes('Invalid format for email address')) return 'Failed_InvalidEmailFormat';
  return 'Failed';
}

/**
 * `retry-after-ms` / `x-ms-retry-after-ms` (Azure) or `retry-after` (delta seconds — ACS uses seconds — or an
 * HTTP date), in ms; undefined when absent or unreadable.
 */
export function parseRetryAfterMs(
  header: (name: string) => string | undefined,
  now: number = Date.now(),
): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = header(name)?.trim();
    if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw);
  }
  const raw = header('retry-after')?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorOf(body: unknown): AcsError | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

function describe(error: AcsError | undefined): string {
  if (!error) return 'no error details';
  return [error.code, error.message].filter((part) => part !== undefined && part !== '').join(': ');
}

/**
 * Interprets the answer to `GET /emails/operations/{id}` (`EmailSendResult {id, status, error?}`).
 *
 * - 200 `Succeeded` → Succeeded; `Failed` → the mapped failure; `Canceled` → Failed; `NotStarted`/`Running` →
 *   running. An unknown status is treated as still running (the deadline bounds it).
 * - 429, 408, 5xx, 401/403 (a credentials problem of ours, not of the email) → transient.
 * - 404 and other 4xx → Failed: ACS does not know the operation (the reference maps every such error to Failed).
 */
export function interpretOperationResponse(
  statusCode: number,
  header: (name: string) => string | undefined,
  bodyText: string,
  now: number = Date.now(),
): OperationCheck {
  const retryAfterMs = parseRetryAfterMs(header, now);
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };
  const body = parseJson(bodyText);
  if (statusCode === 200) {
    const status =
      typeof body === 'object' && body !== null && 'status' in body
        ? String((body as { status: unknown }).status)
        : undefined;
    if (status === undefined)
      return { kind: 'transient', detail: 'ACS answered 200 without an operation status', ...retry };
    switch (status.toLowerCase()) {
      case 'succeeded':
        return { kind: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' };
      case 'failed': {
        const error = errorOf(body);
        return { kind: 'finished', sendResult: mapAcsError(error), detail: `Failed (${describe(error)})` };
      }
      case 'canceled':
      case 'cancelled':
        return { kind: 'finished', sendResult: 'Failed', detail: 'Canceled' };
      default:
        return { kind: 'running', status, ...retry };
    }
  }
  const error = errorOf(body);
  const detail = `HTTP ${statusCode} (${describe(error)})`;
  if (
    statusCode === 429 ||
    statusCode === 408 ||
    statusCode >= 500 ||
    statusCode === 401 ||
    statusCode === 403
  )
    return { kind: 'transient', detail, ...retry };
  return { kind: 'finished', sendResult: mapAcsError(error), detail };
}
