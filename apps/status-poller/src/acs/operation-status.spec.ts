import { interpretOperationResponse, mapAcsError, parseRetryAfterMs } from './operation-status';

const noHeaders = (): undefined => undefined;
const headers =
  (values: Record<string, string>) =>
  (name: string): string | undefined =>
    values[name];

describe(interpretOperationResponse.name, () => {
  it('maps terminal statuses', () => {
    expect(interpretOperationResponse(200, noHeaders, '{"id":"x","status":"Succeeded"}')).toMatchObject({
      kind: 'finished',
      sendResult: 'Succeeded',
    });
    expect(
      interpretOperationResponse(
        200,
        noHeaders,
        '{"id":"x","status":"Failed","error":{"code":"EmailDroppedAllRecipientsSuppressed","message":"suppressed"}}',
      ),
    ).toMatchObject({ kind: 'finished', sendResult: 'Failed_SupressedRecipient' });
    expect(
      interpretOperationResponse(
        200,
        noHeaders,
        '{"status":"Failed","error":{"code":"EmailDropped","message":"dropped"}}',
      ),
    ).toEqual({ kind: 'finished', sendResult: 'Failed', detail: 'Failed (EmailDropped: dropped)' });
    expect(interpretOperationResponse(200, noHeaders, '{"status":"Canceled"}')).toMatchObject({
      kind: 'finished',
      sendResult: 'Failed',
    });
  });

  it('reports a running operation with its retry-after (seconds)', () => {
    expect(interpretOperationResponse(200, headers({ 'retry-after': '3' }), '{"status":"Running"}')).toEqual({
      kind: 'running',
      status: 'Running',
      retryAfterMs: 3000,
    });
    expect(interpretOperationResponse(200, noHeaders, '{"status":"NotStarted"}')).toEqual({
      kind: 'running',
      status: 'NotStarted',
    });
  });

  it.each([429, 500, 502, 503, 408, 401, 403])('treats HTTP %i as transient', (status) => {
    expect(interpretOperationResponse(status, headers({ 'retry-after': '7' }), '')).toMatchObject({
      kind: 'transient',
      retryAfterMs: 7000,
    });
  });

  it('treats a 200 without a status as transient and other 4xx as Failed', () => {
    expect(interpretOperationResponse(200, noHeaders, 'not json')).toMatchObject({ kind: 'transient' });
    expect(
      interpretOperationResponse(
        404,
        noHeaders,
        '{"error":{"code":"NotFound","message":"no such operation"}}',
      ),
    ).toEqual({ kind: 'finished', sendResult: 'Failed', detail: 'HTTP 404 (NotFound: no such operation)' });
  });
});

describe(mapAcsError.name, () => {
  it('follows SPEC section 4', () => {
    expect(mapAcsError({ code: 'EmailDroppedAllRecipientsSuppressed' })).toBe('Failed_SupressedRecipient');
    expect(mapAcsError({ code: 'TooManyRequests' })).toBe('Failed_TransientError');
    expect(mapAcsError({ code: 'BadRequest', message: 'Invalid format for email address x' })).toBe(
      'Failed_InvalidEmailFormat',
    );
    expect(mapAcsError({ code: 'Other' })).toBe('Failed');
    expect(mapAcsError(undefined)).toBe('Failed');
  });
});

describe(parseRetryAfterMs.name, () => {
  it('prefers retry-after-ms, reads seconds and HTTP dates', () => {
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(parseRetryAfterMs(headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfterMs(noHeaders)).toBeUndefined();
  });
});
