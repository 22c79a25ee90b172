import {
  RestError,
  createHttpHeaders,
  createPipelineRequest,
  type PipelineRequest,
  type PipelineResponse,
  type SendRequest,
} from '@azure/core-rest-pipeline';
import {
  ServiceBusyError,
  StatusCheckSkipped,
  TooManyRequestsError,
  parseRetryAfterMs,
  sendOnlyPolicy,
  throttlingPolicy,
  timeoutAsRetryablePolicy,
} from './acs-pipeline.policies';

const NOW = Date.parse('2026-03-16T08:00:00.000Z');

function request(method: 'GET' | 'POST' = 'POST'): PipelineRequest {
  return createPipelineRequest({ url: 'https://contoso.communication.azure.com/emails:send', method });
}

function answer(status: number, headers: Record<string, string> = {}): SendRequest {
  return (req) =>
    Promise.resolve<PipelineResponse>({ status, headers: createHttpHeaders(headers), request: req });
}

describe(parseRetryAfterMs.name, () => {
  const parse = (headers: Record<string, string>) => parseRetryAfterMs(createHttpHeaders(headers), NOW);

  it('reads delta-seconds', () => expect(parse({ 'Retry-After': '7' })).toBe(7_000));
  it('reads an HTTP-date relative to now', () =>
    expect(parse({ 'retry-after': 'Mon, 16 Mar 2026 08:00:42 GMT' })).toBe(42_000));
  it('reads a past HTTP-date as 0', () =>
    expect(parse({ 'retry-after': 'Mon, 16 Mar 2026 07:00:00 GMT' })).toBe(0));
  it("prefers Azure's millisecond headers", () => {
    expect(parse({ 'retry-after-ms': '1500', 'retry-after': '9' })).toBe(1_500);
    expect(parse({ 'x-ms-retry-after-ms': '250' })).toBe(250);
  });
  it('is undefined when absent or unreadable', () => {
    expect(parse({})).toBeUndefined();
    expect(parse({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parse({ 'retry-after': '-3' })).toBeUndefined();
  });
});

describe(throttlingPolicy.name, () => {
  const policy = throttlingPolicy({ maxRetryDelayMs: 8_000, now: () => NOW });

  it('turns a 429 into TooManyRequestsError carrying Retry-After', async () => {
    const error = await policy
      .sendRequest(request(), answer(429, { 'retry-after': '30' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect(error).toMatchObject({ retryAfterMs: 30_000 });
    // Not a RestError: the SDK's retry policy rethrows it at once instead of waiting and retrying.
    expect(error).not.toBeInstanceOf(RestError);
  });

  it('turns a 429 without Retry-After into TooManyRequestsError without a delay', async () => {
    await expect(policy.sendRequest(request(), answer(429))).rejects.toMatchObject({
      name: 'TooManyRequestsError',
      retryAfterMs: undefined,
    });
  });

  it('stops SDK retries of a 5xx only when its Retry-After is longer than the SDK may wait', async () => {
    await expect(policy.sendRequest(request(), answer(503, { 'retry-after': '60' }))).rejects.toBeInstanceOf(
      ServiceBusyError,
    );
    await expect(policy.sendRequest(request(), answer(503, { 'retry-after': '2' }))).resolves.toMatchObject({
      status: 503,
    });
    await expect(policy.sendRequest(request(), answer(500))).resolves.toMatchObject({ status: 500 });
  });

  it('passes every other response through', async () => {
    await expect(policy.sendRequest(request(), answer(202))).resolves.toMatchObject({ status: 202 });
    await expect(policy.sendRequest(request(), answer(400))).resolves.toMatchObject({ status: 400 });
  });
});

describe(timeoutAsRetryablePolicy.name, () => {
  const abortError = (): Error =>
    Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });

  it('turns a timed-out attempt into a retryable ETIMEDOUT RestError', async () => {
    const error = await timeoutAsRetryablePolicy(1_000)
      .sendRequest(request(), () => Promise.reject(abortError()))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestError);
    expect(error).toMatchObject({ code: 'ETIMEDOUT', message: 'ACS did not answer within 1000 ms' });
  });

  it('leaves a caller abort and other errors alone', async () => {
    const controller = new AbortController();
    controller.abort();
    const aborted = createPipelineRequest({ url: 'https://x/', abortSignal: controller.signal });
    await expect(
      timeoutAsRetryablePolicy(1_000).sendRequest(aborted, () => Promise.reject(abortError())),
    ).rejects.toMatchObject({ name: 'AbortError' });
    const other = new Error('boom');
    await expect(
      timeoutAsRetryablePolicy(1_000).sendRequest(request(), () => Promise.reject(other)),
    ).rejects.toBe(other);
  });
});

describe(sendOnlyPolicy.name, () => {
  const location = 'https://contoso.communication.azure.com/emails/operations/abc?api-version=2025-09-01';

  it('lets the send through and keeps the status check in the process', async () => {
    const next = jest.fn(answer(202));
    await expect(sendOnlyPolicy().sendRequest(request('POST'), next)).resolves.toMatchObject({ status: 202 });
    await expect(sendOnlyPolicy().sendRequest(request('GET'), next)).rejects.toBeInstanceOf(
      StatusCheckSkipped,
    );
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('takes the polling location off an accepted send, and only that', async () => {
    const response = await sendOnlyPolicy().sendRequest(
      request('POST'),
      answer(202, {
        'Operation-Location': location,
        'Azure-AsyncOperation': location,
        Location: location,
        'Retry-After': '1',
        'x-ms-request-id': 'r1',
      }),
    );
    expect(response.headers.toJSON()).toEqual({ 'retry-after': '1', 'x-ms-request-id': 'r1' });
  });

  it('leaves an error answer as it came', async () => {
    const response = await sendOnlyPolicy().sendRequest(
      request('POST'),
      answer(503, { 'Operation-Location': location, 'Retry-After': '1' }),
    );
    expect(response.headers.toJSON()).toEqual({ 'operation-location': location, 'retry-after': '1' });
  });
});
