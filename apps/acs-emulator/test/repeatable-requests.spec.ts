import { EmailClient, type EmailMessage } from '@azure/communication-email';
import { isRestError, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { expectEventually } from '@notifications/testing';
import { randomUUID } from 'node:crypto';
import { emailTo, startTestEmulator, type Stats, type TestEmulator } from './support/test-emulator';

// ACS Repeatable Requests for the Email Send API (learn.microsoft.com/rest/api/communication/repeatable-requests),
// with Operation-Id de-duplication off, as every duplicate check runs: only the documented mechanism may keep a
// repeated POST from becoming a second email.

interface ErrorBody {
  error: { code: string; message: string };
}

const repeatability = (requestId: string, firstSent: Date | string) => ({
  'repeatability-request-id': requestId,
  'repeatability-first-sent': typeof firstSent === 'string' ? firstSent : firstSent.toUTCString(),
});

describe('Repeatable Requests on POST /emails:send (raw signed requests)', () => {
  let emulator: TestEmulator;

  beforeAll(async () => {
    emulator = await startTestEmulator({ ACS_DEDUPLICATE_OPERATION_ID: 'false' });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.admin('POST', '/admin/reset?config=true'));

  const stats = async () => (await emulator.admin<Stats>('GET', '/admin/stats')).body;

  it.each([
    ['a request id that is not a GUID', repeatability('not-a-guid', new Date())],
    ['a first-sent that is not an IMF-fixdate', repeatability(randomUUID(), new Date().toISOString())],
    ['a request id without first-sent', { 'repeatability-request-id': randomUUID() }],
    ['a first-sent without request id', { 'repeatability-first-sent': new Date().toUTCString() }],
  ])('answers 400 for %s and sends nothing', async (_case, headers) => {
    const response = await emulator.send(emailTo('a@example.org'), { headers });

    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).error.message).toMatch(/Repeatability/);
    expect(await stats()).toMatchObject({ messages: 0 });
  });

  it('answers 412 for a first-sent outside the 5-minute window, and sends nothing', async () => {
    const sixMinutesAgo = new Date(Date.now() - 6 * 60_000);
    const response = await emulator.send(emailTo('a@example.org'), {
      operationId: randomUUID(),
      headers: repeatability(randomUUID(), sixMinutesAgo),
    });

    expect(response.status).toBe(412);
    expect((response.body as ErrorBody).error.code).toBe('PreconditionFailed');
    expect(await stats()).toMatchObject({ messages: 0, requests: { send: { '412': 1 } } });
  });

  it('executes a new request id within the window, and a repeat gets the original 202 without a second email', async () => {
    const operationId = randomUUID();
    const headers = repeatability(randomUUID(), new Date(Date.now() - 60_000));

    const first = await emulator.send(emailTo('a@example.org'), { operationId, headers });
    const repeat = await emulator.send(emailTo('a@example.org'), { operationId, headers });

    expect(first.status).toBe(202);
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['operation-location']).toBe(first.headers['operation-location']);
    expect(await stats()).toMatchObject({
      messages: 1,
      notificationsSentMoreThanOnce: 0,
      requests: { send: { '202': 1, repeatReplayed: 1 } },
    });
  });

  it('answers the original 4xx to a matching repeat', async () => {
    const headers = repeatability(randomUUID(), new Date());

    const first = await emulator.send(emailTo('not-an-address'), { headers });
    const repeat = await emulator.send(emailTo('not-an-address'), { headers });

    expect(first.status).toBe(400);
    expect(repeat.status).toBe(400);
    expect(repeat.body).toEqual(first.body);
  });

  it('answers 400 to a repeat that does not match the original request', async () => {
    const requestId = randomUUID();
    const firstSent = new Date();
    await emulator.send(emailTo('a@example.org'), { headers: repeatability(requestId, firstSent) });

    const otherBody = await emulator.send(emailTo('a@example.org', 'Other subject'), {
      headers: repeatability(requestId, firstSent),
    });
    const otherFirstSent = await emulator.send(emailTo('a@example.org'), {
      headers: repeatability(requestId, new Date(firstSent.getTime() - 10_000)),
    });

    expect(otherBody.status).toBe(400);
    expect((otherBody.body as ErrorBody).error.message).toMatch(/does not match/);
    expect(otherFirstSent.status).toBe(400);
    expect(await stats()).toMatchObject({ messages: 1 });
  });

  it('answers 409 to a matching repeat while the original is still in progress', async () => {
    await emulator.admin('POST', '/admin/rules', {
      match: '*@slow.example.org',
      behaviour: { type: 'succeed', responseDelayMs: 1_000 },
    });
    const operationId = randomUUID();
    const headers = repeatability(randomUUID(), new Date());

    const original = emulator.send(emailTo('a@slow.example.org'), { operationId, headers });
    // The original is in progress once the emulator has counted its POST.
    await expectEventually(async () => expect((await stats()).distinctOperationIds).toBe(1));
    const repeat = await emulator.send(emailTo('a@slow.example.org'), { operationId, headers });

    expect(repeat.status).toBe(409);
    expect((await original).status).toBe(202);
    const after = await emulator.send(emailTo('a@slow.example.org'), { operationId, headers });
    expect(after.status).toBe(202);
    expect(await stats()).toMatchObject({ messages: 1, requests: { send: { '409': 1, repeatReplayed: 1 } } });
  });

  it('executes a matching repeat again when the original got a 5xx', async () => {
    await emulator.admin('POST', '/admin/rules', {
      match: '*@flaky.example.org',
      times: 1,
      behaviour: { type: 'serverError', status: 503 },
    });
    const headers = repeatability(randomUUID(), new Date());

    const first = await emulator.send(emailTo('a@flaky.example.org'), { headers });
    const repeat = await emulator.send(emailTo('a@flaky.example.org'), { headers });
    const again = await emulator.send(emailTo('a@flaky.example.org'), { headers });

    expect([first.status, repeat.status, again.status]).toEqual([503, 202, 202]);
    expect(again.body).toEqual(repeat.body);
    expect(await stats()).toMatchObject({ messages: 1, requests: { send: { '5xx': 1, '202': 1 } } });
  });

  it('without repeatability headers, a repeated Operation-Id is a second email (de-duplication off)', async () => {
    const operationId = randomUUID();

    await emulator.send(emailTo('a@example.org'), { operationId });
    await emulator.send(emailTo('a@example.org'), { operationId });

    expect(await stats()).toMatchObject({ messages: 2, notificationsSentMoreThanOnce: 1 });
    const { body } = await emulator.admin<{ messages: { operationId: string }[] }>(
      'GET',
      `/admin/messages?operationId=${operationId}`,
    );
    expect(body.messages).toHaveLength(2);
  });
});

describe('Repeatable Requests through @azure/communication-email', () => {
  let emulator: TestEmulator;

  beforeAll(async () => {
    emulator = await startTestEmulator({ ACS_DEDUPLICATE_OPERATION_ID: 'false' });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.admin('POST', '/admin/reset?config=true'));

  const stats = async () => (await emulator.admin<Stats>('GET', '/admin/stats')).body;
  const message = (to: string): EmailMessage => ({
    senderAddress: 'noreply@example.org',
    content: { subject: 'Hello', plainText: 'Body' },
    recipients: { to: [{ address: to }] },
  });

  /** What a client must add: the SDK (1.1.0) sends no repeatability headers of its own. */
  const repeatabilityPolicy = (seen: string[]): PipelinePolicy => ({
    name: 'testRepeatability',
    sendRequest(request, next) {
      if (request.method === 'POST' && !request.headers.has('repeatability-request-id')) {
        request.headers.set('Repeatability-Request-Id', randomUUID());
        request.headers.set('Repeatability-First-Sent', new Date().toUTCString());
      }
      seen.push(request.headers.get('repeatability-request-id') ?? '');
      return next(request);
    },
  });
  const sdkClient = (seen: string[], options: { withPolicy: boolean }) =>
    new EmailClient(emulator.connectionString, {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
      additionalPolicies: options.withPolicy
        ? [
            { policy: repeatabilityPolicy(seen), position: 'perCall' },
            // Sees every attempt, after the retry policy.
            {
              policy: {
                name: 'recordAttempts',
                sendRequest: (request, next) => {
                  if (request.method === 'POST')
                    seen.push(`attempt:${request.headers.get('repeatability-request-id') ?? ''}`);
                  return next(request);
                },
              },
              position: 'perRetry',
            },
          ]
        : [],
    });

  it('the SDK sends no repeatability headers by itself', async () => {
    const headers: string[] = [];
    const client = new EmailClient(emulator.connectionString, {
      allowInsecureConnection: true,
      additionalPolicies: [
        {
          policy: {
            name: 'recordHeaders',
            sendRequest: (request, next) => {
              headers.push(...[...request.headers].map(([name]) => name.toLowerCase()));
              return next(request);
            },
          },
          position: 'perRetry',
        },
      ],
    });

    await client.beginSend(message('a@example.org'), { operationId: randomUUID() });

    expect(headers).toContain('operation-id');
    expect(headers.filter((name) => name.startsWith('repeatability-'))).toEqual([]);
  });

  it('a per-call policy keeps one request id across the SDK retries: a dropped answer is replayed, one email', async () => {
    // The first attempt is accepted and its answer lost; the SDK retries the POST.
    await emulator.admin('POST', '/admin/rules', {
      match: '*@lost-answer.example.org',
      times: 1,
      behaviour: { type: 'drop', afterAccept: true },
    });
    const seen: string[] = [];
    const operationId = randomUUID();

    const poller = await sdkClient(seen, { withPolicy: true }).beginSend(
      message('a@lost-answer.example.org'),
      { operationId },
    );

    expect(poller.getOperationState().status).not.toBe('failed');
    const attempts = seen.filter((entry) => entry.startsWith('attempt:'));
    expect(attempts.length).toBe(2);
    expect(new Set(attempts).size).toBe(1);
    expect(await stats()).toMatchObject({
      messages: 1,
      notificationsSentMoreThanOnce: 0,
      requests: { send: { dropped: 1, repeatReplayed: 1 } },
    });
  });

  it('without the policy the same SDK retry is a second email', async () => {
    await emulator.admin('POST', '/admin/rules', {
      match: '*@lost-answer.example.org',
      times: 1,
      behaviour: { type: 'drop', afterAccept: true },
    });

    await sdkClient([], { withPolicy: false }).beginSend(message('a@lost-answer.example.org'), {
      operationId: randomUUID(),
    });

    expect(await stats()).toMatchObject({ messages: 2, notificationsSentMoreThanOnce: 1 });
  });

  it('a 5xx answer is retried by the SDK with the same headers and executed again: one email', async () => {
    await emulator.admin('POST', '/admin/rules', {
      match: '*@flaky.example.org',
      times: 1,
      behaviour: { type: 'serverError', status: 503 },
    });
    const seen: string[] = [];

    await sdkClient(seen, { withPolicy: true }).beginSend(message('a@flaky.example.org'), {
      operationId: randomUUID(),
    });

    const attempts = seen.filter((entry) => entry.startsWith('attempt:'));
    expect(attempts.length).toBe(2);
    expect(new Set(attempts).size).toBe(1);
    expect(await stats()).toMatchObject({ messages: 1, requests: { send: { '5xx': 1, '202': 1 } } });
  });

  it('reports 412 to the SDK caller as a RestError with status 412', async () => {
    const client = new EmailClient(emulator.connectionString, {
      allowInsecureConnection: true,
      additionalPolicies: [
        {
          policy: {
            name: 'staleFirstSent',
            sendRequest: (request, next) => {
              request.headers.set('Repeatability-Request-Id', randomUUID());
              request.headers.set('Repeatability-First-Sent', new Date(Date.now() - 600_000).toUTCString());
              return next(request);
            },
          },
          position: 'perCall',
        },
      ],
    });

    const error: unknown = await client
      .beginSend(message('a@example.org'))
      .catch((caught: unknown) => caught);

    expect(isRestError(error) && error.statusCode).toBe(412);
    expect(await stats()).toMatchObject({ messages: 0 });
  });
});
