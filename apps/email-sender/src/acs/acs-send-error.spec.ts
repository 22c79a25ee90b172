import { RestError, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { ServiceBusyError, TooManyRequestsError } from './acs-pipeline.policies';
import { classifySendError } from './acs-send-error';

function restError(
  statusCode: number | undefined,
  message: string,
  options: { code?: string; headers?: Record<string, string> } = {},
): RestError {
  const request = createPipelineRequest({ url: 'https://contoso.communication.azure.com/emails:send' });
  return new RestError(message, {
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(options.code === undefined ? {} : { code: options.code }),
    request,
    ...(statusCode === undefined
      ? {}
      : { response: { status: statusCode, headers: createHttpHeaders(options.headers ?? {}), request } }),
  });
}

describe(classifySendError.name, () => {
  it('maps a 429 from our policy to throttled with its Retry-After', () => {
    expect(classifySendError(new TooManyRequestsError(5_000))).toMatchObject({
      kind: 'throttled',
      retryAfterMs: 5_000,
    });
    expect(classifySendError(new TooManyRequestsError(undefined))).toMatchObject({
      kind: 'throttled',
      retryAfterMs: undefined,
    });
  });

  it('maps a 429 RestError (should our policy be bypassed) to throttled too', () => {
    expect(classifySendError(restError(429, 'slow down', { headers: { 'retry-after': '3' } }))).toMatchObject(
      {
        kind: 'throttled',
        retryAfterMs: 3_000,
      },
    );
    expect(classifySendError(restError(400, 'slow down', { code: 'TooManyRequests' }))).toMatchObject({
      kind: 'throttled',
    });
  });

  it('maps EmailDroppedAllRecipientsSuppressed to Failed_SupressedRecipient (reference spelling)', () => {
    expect(
      classifySendError(
        restError(400, 'All recipients suppressed', { code: 'EmailDroppedAllRecipientsSuppressed' }),
      ),
    ).toMatchObject({ kind: 'rejected', sendResult: 'Failed_SupressedRecipient' });
    // ACS may only put the code in the x-ms-error-code header.
    expect(
      classifySendError(
        restError(400, 'dropped', { headers: { 'x-ms-error-code': 'EmailDroppedAllRecipientsSuppressed' } }),
      ),
    ).toMatchObject({ kind: 'rejected', sendResult: 'Failed_SupressedRecipient' });
  });

  it('maps "Invalid format for email address" to Failed_InvalidEmailFormat', () => {
    expect(
      classifySendError(
        restError(400, 'Invalid format for email address: not-an-address', { code: 'InvalidEmailAddress' }),
      ),
    ).toMatchObject({ kind: 'rejected', sendResult: 'Failed_InvalidEmailFormat' });
  });

  it.each([500, 502, 503, 504, 408])('maps HTTP %s to an ACS outage (pause, no attempt spent)', (status) => {
    expect(classifySendError(restError(status, 'busy'))).toMatchObject({ kind: 'unavailable', outage: true });
  });

  it('maps no response (dropped connection, timeout) to an ACS outage', () => {
    expect(classifySendError(restError(undefined, 'socket hang up', { code: 'ECONNRESET' }))).toMatchObject({
      kind: 'unavailable',
      outage: true,
      reason: expect.stringContaining('no response, ECONNRESET') as unknown,
    });
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(classifySendError(abort)).toMatchObject({ kind: 'unavailable', outage: true });
  });

  it('maps a long 5xx Retry-After from our policy to unavailable with that delay', () => {
    expect(classifySendError(new ServiceBusyError(503, 90_000))).toMatchObject({
      kind: 'unavailable',
      retryAfterMs: 90_000,
      outage: true,
    });
  });

  it('treats refused credentials (401, 403) as unavailable, not as a failed email, nor as an outage', () => {
    for (const status of [401, 403]) {
      const failure = classifySendError(restError(status, 'Denied', { code: 'Unauthorized' }));
      expect(failure).toMatchObject({
        kind: 'unavailable',
        reason: expect.stringContaining('ACS_CONNECTION_STRING') as unknown,
      });
      expect(failure).not.toHaveProperty('outage');
    }
  });

  it.each([400, 404, 409, 413, 422])('maps any other HTTP %s to Failed', (status) => {
    expect(classifySendError(restError(status, 'Bad request', { code: 'BadRequest' }))).toMatchObject({
      kind: 'rejected',
      sendResult: 'Failed',
      reason: expect.stringContaining(`HTTP ${status}, BadRequest`) as unknown,
    });
  });
});
