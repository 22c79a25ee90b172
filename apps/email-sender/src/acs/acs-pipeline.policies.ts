import { randomUUID } from 'node:crypto';
import { RestError, type PipelinePolicy, type PipelineResponse } from '@azure/core-rest-pipeline';

/**
 * ACS answered 429. Thrown from inside the SDK's pipeline, past its retry policy, so the SDK does not wait and
 * retry by itself: the app has to publish the rate-limit signal and hold back every other email instead.
 * (Not a RestError on purpose: the retry policy retries RestErrors, and rethrows anything else at once.)
 */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';

  constructor(
    /** From Retry-After (delta-seconds or HTTP-date) or retry-after-ms; undefined when ACS sent none. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(
      retryAfterMs === undefined
        ? 'ACS answered 429 Too Many Requests without Retry-After'
        : `ACS answered 429 Too Many Requests; retry after ${Math.ceil(retryAfterMs / 1_000)} s`,
    );
  }
}

/**
 * ACS answered 5xx with a Retry-After longer than the SDK's own retries may wait. Thrown past the retry policy
 * like TooManyRequestsError: the send is retried later through the retry topic instead of blocking a handler.
 */
export class ServiceBusyError extends Error {
  override readonly name = 'ServiceBusyError';

  constructor(
    readonly statusCode: number,
    readonly retryAfterMs: number,
  ) {
    super(`ACS answered ${statusCode} with Retry-After ${Math.ceil(retryAfterMs / 1_000)} s`);
  }
}

/** The send was accepted; the status check the SDK would make next is status-poller's job. */
export class StatusCheckSkipped extends Error {
  override readonly name = 'StatusCheckSkipped';

  constructor() {
    super('Send accepted; the status check is left to status-poller');
  }
}

interface HeaderSource {
  get(name: string): string | undefined;
}

/**
 * How long the service asks us to wait: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds, Azure's own
 * headers), else `Retry-After` as delta-seconds or an HTTP-date. Undefined when absent or unreadable.
 */
export function parseRetryAfterMs(headers: HeaderSource, now: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = headers.get(name)?.trim();
    if (value !== undefined && /^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value));
  }
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1_000);
  // An HTTP-date names its day and month (`Mon, 16 Mar 2026 08:00:42 GMT`); `-3` is not one.
  if (!/[A-Za-z]/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Position `perRetry` (after the SDK's retry policy, like Altinn's TooManyRequestsPolicy): turns a 429 into an
 * immediate TooManyRequestsError, and a 5xx whose Retry-After exceeds `maxRetryDelayMs` into a
 * ServiceBusyError, so neither is retried silently inside the SDK.
 */
export function throttlingPolicy(options: { maxRetryDelayMs: number; now?: () => number }): PipelinePolicy {
  const now = options.now ?? Date.now;
  return {
    name: 'emailSenderThrottlingPolicy',
    async sendRequest(request, next): Promise<PipelineResponse> {
      const response = await next(request);
      if (response.status === 429) throw new TooManyRequestsError(parseRetryAfterMs(response.headers, now()));
      if (response.status >= 500) {
        const retryAfterMs = parseRetryAfterMs(response.headers, now());
        if (retryAfterMs !== undefined && retryAfterMs > options.maxRetryDelayMs) {
          throw new ServiceBusyError(response.status, retryAfterMs);
        }
      }
      return response;
    },
  };
}

/**
 * Position `perRetry`: a request that timed out surfaces from the HTTP client as an AbortError, which the SDK's
 * retry policy does not retry. Re-thrown as a RestError with code ETIMEDOUT it is retried like a dropped
 * connection (same Operation-Id, so ACS sees one operation however many attempts reach it).
 */
export function timeoutAsRetryablePolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'emailSenderTimeoutPolicy',
    async sendRequest(request, next): Promise<PipelineResponse> {
      try {
        return await next(request);
      } catch (error) {
        const callerAborted = request.abortSignal?.aborted === true;
        if (error instanceof Error && error.name === 'AbortError' && !callerAborted) {
          throw new RestError(`ACS did not answer within ${timeoutMs} ms`, { code: 'ETIMEDOUT', request });
        }
        throw error;
      }
    },
  };
}

/**
 * Position `perCall`: the JS SDK's `beginSend` follows the accepted POST with one status GET (the .NET SDK's
 * `WaitUntil.Started`, which the reference uses, does not). This client only sends — status-poller checks
 * operations — so the SDK's poller is told there is nothing to poll: the polling location is taken off the POST's
 * 2xx answer (`Operation-Location`, and `Azure-AsyncOperation` / `Location`, the other headers @azure/core-lro polls),
 * and an LRO answer without one is final to core-lro (`getStatusFromInitialResponse`: "running" without an
 * operation location → "succeeded"). `beginSend` then resolves at the POST's answer without building, sending or
 * failing a GET, which cost 6 % of email-sender's CPU profile when the GET was stopped here instead (issue 12).
 * Only these response headers change: the caller reads the POST's status and body (`onResponse`), and the
 * operation id is the notification id, so nothing here needs the location. Should the SDK still issue a GET, it
 * never leaves the process: `beginSend` rejects with StatusCheckSkipped, which the caller reads as "accepted".
 */
export function sendOnlyPolicy(): PipelinePolicy {
  // One instance for every send: constructing an Error captures a stack trace, which was 2 % of email-sender's
  // CPU (profile, issue 12); the caller only tests `instanceof` and never logs it.
  const skipped = new StatusCheckSkipped();
  return {
    name: 'emailSenderSendOnlyPolicy',
    async sendRequest(request, next): Promise<PipelineResponse> {
      if (request.method === 'GET') throw skipped;
      const response = await next(request);
      if (response.status >= 200 && response.status < 300) {
        for (const header of POLLING_LOCATION_HEADERS) response.headers.delete(header);
      }
      return response;
    },
  };
}

// The response headers @azure/core-lro takes a polling location from (`inferLroMode`).
const POLLING_LOCATION_HEADERS = ['operation-location', 'azure-asyncoperation', 'location'] as const;

/**
 * Position `perCall`: ACS Repeatable Requests (https://learn.microsoft.com/rest/api/communication/repeatable-requests,
 * "Applies to: ACS Email (Email Send API)"). Every POST gets a `Repeatability-Request-Id` (a new GUID) and a
 * `Repeatability-First-Sent` (now, IMF-fixdate) once per call of `beginSend`; the SDK's retry policy sits after
 * this policy and re-sends the same request object, so every retry of the call carries the same pair. ACS then
 * answers a retried POST whose original was accepted with the original's 202 (409 while it is still in
 * progress) instead of sending again, and executes it again only if the original got a 5xx.
 *
 * `@azure/communication-email` 1.1.0 sends no repeatability headers of its own (checked in its sources and
 * against the emulator), and the SDK's POST of a new `beginSend` call is a new request: a re-send after a crash or
 * a Kafka redelivery is not a repeat, and is guarded by asking ACS for the operation first (`AcsEmailClient`).
 */
export function repeatabilityPolicy(
  options: { now?: () => Date; newRequestId?: () => string } = {},
): PipelinePolicy {
  const now = options.now ?? (() => new Date());
  const newRequestId = options.newRequestId ?? randomUUID;
  return {
    name: 'emailSenderRepeatabilityPolicy',
    sendRequest(request, next): Promise<PipelineResponse> {
      if (request.method === 'POST' && !request.headers.has(REPEATABILITY_REQUEST_ID)) {
        request.headers.set(REPEATABILITY_REQUEST_ID, newRequestId());
        // `toUTCString` is the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`).
        request.headers.set(REPEATABILITY_FIRST_SENT, now().toUTCString());
      }
      return next(request);
    },
  };
}

export const REPEATABILITY_REQUEST_ID = 'Repeatability-Request-Id';
export const REPEATABILITY_FIRST_SENT = 'Repeatability-First-Sent';
