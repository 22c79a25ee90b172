import { expectEventually } from '@notifications/testing';
import { randomUUID } from 'node:crypto';
import { signedRequest } from './support/signed-fetch';
import { emailTo, startTestEmulator, type Stats, type TestEmulator } from './support/test-emulator';

interface SendResultBody {
  id: string;
  status: string;
  error?: { code: string; message: string };
}
interface ErrorBody {
  error: { code: string; message: string };
}

const OTHER_KEY = Buffer.from('not-the-emulator-key').toString('base64');

describe('ACS Email REST API of the emulator (raw signed requests)', () => {
  let emulator: TestEmulator;

  beforeAll(async () => {
    emulator = await startTestEmulator({ ACS_OPERATION_DELAY_MS: '300ms' });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.admin('POST', '/admin/reset?config=true'));

  const stats = async () => (await emulator.admin<Stats>('GET', '/admin/stats')).body;
  const addRules = async (rules: unknown) => {
    const response = await emulator.admin('POST', '/admin/rules', rules);
    expect(response.status).toBe(201);
  };

  describe('send and poll', () => {
    it('answers 202 with Operation-Location, retry-after in seconds and a Running operation', async () => {
      const response = await emulator.send(emailTo('a@example.org'), {
        headers: { 'x-ms-client-request-id': 'c6f5b2d4-0000-4000-8000-000000000001' },
      });

      const body = response.body as SendResultBody;
      expect(response.status).toBe(202);
      expect(body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'Running' });
      expect(response.headers['operation-location']).toBe(
        `${emulator.url}/emails/operations/${body.id}?api-version=2025-09-01`,
      );
      expect(response.headers['retry-after']).toBe('1');
      expect(response.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers['x-ms-client-request-id']).toBe('c6f5b2d4-0000-4000-8000-000000000001');
    });

    it('reports Running with retry-after, then Succeeded without it', async () => {
      const { id } = (await emulator.send(emailTo('a@example.org'))).body as SendResultBody;

      const running = await emulator.poll(id);
      expect(running.status).toBe(200);
      expect(running.body).toEqual({ id, status: 'Running' });
      expect(running.headers['retry-after']).toBe('1');

      await expectEventually(async () => {
        const done = await emulator.poll(id);
        expect(done.body).toEqual({ id, status: 'Succeeded' });
        expect(done.headers['retry-after']).toBeUndefined();
      });
    });

    it('reports NotStarted first when a rule asks for it', async () => {
      await addRules({ match: '*', behaviour: { type: 'succeed', notStartedMs: 200, delayMs: 400 } });
      const { id, status } = (await emulator.send(emailTo('a@example.org'))).body as SendResultBody;

      expect(status).toBe('NotStarted');
      await expectEventually(async () =>
        expect((await emulator.poll(id)).body).toMatchObject({ status: 'Running' }),
      );
      await expectEventually(async () =>
        expect((await emulator.poll(id)).body).toMatchObject({ status: 'Succeeded' }),
      );
    });

    it('with de-duplication switched on, honours Operation-Id: a repeat returns the existing operation and records nothing new', async () => {
      await emulator.admin('PUT', '/admin/settings', { deduplicateOperationIds: true });
      const operationId = randomUUID();
      const first = await emulator.send(emailTo('a@example.org'), { operationId });
      const second = await emulator.send(emailTo('a@example.org', 'Changed'), { operationId });

      expect(first.body).toEqual({ id: operationId, status: 'Running' });
      expect(second.status).toBe(202);
      expect(second.body).toEqual({ id: operationId, status: 'Running' });
      expect(await stats()).toMatchObject({
        messages: 1,
        duplicateSends: 1,
        notificationsSentMoreThanOnce: 0,
        requests: { send: { '202': 2, replayed: 1 } },
      });
      const duplicates = await emulator.admin('GET', '/admin/duplicates');
      expect(duplicates.body).toEqual({
        duplicateSends: [{ id: operationId, posts: 2, messagesRecorded: 1 }],
        sentMoreThanOnce: [],
      });
    });

    it('with de-duplication switched on, returns the terminal status when the repeat comes after completion', async () => {
      await emulator.admin('PUT', '/admin/settings', { deduplicateOperationIds: true });
      const operationId = randomUUID();
      await emulator.send(emailTo('a@fail.test'), { operationId });
      await expectEventually(async () =>
        expect((await emulator.poll(operationId)).body).toMatchObject({ status: 'Failed' }),
      );

      const repeat = await emulator.send(emailTo('a@fail.test'), { operationId });

      expect(repeat.status).toBe(202);
      expect(repeat.body).toMatchObject({
        id: operationId,
        status: 'Failed',
        error: { code: 'EmailDropped' },
      });
      expect(repeat.headers['retry-after']).toBeUndefined();
    });

    it('records a second message for a repeated Operation-Id by default (de-duplication off)', async () => {
      expect((await emulator.admin('GET', '/admin/settings')).body).toMatchObject({
        deduplicateOperationIds: false,
      });
      const operationId = randomUUID();

      await emulator.send(emailTo('a@example.org'), { operationId });
      await emulator.send(emailTo('a@example.org'), { operationId });

      expect(await stats()).toMatchObject({
        messages: 2,
        duplicateSends: 1,
        notificationsSentMoreThanOnce: 1,
      });
      expect((await emulator.admin('GET', '/admin/duplicates')).body).toMatchObject({
        sentMoreThanOnce: [{ id: operationId, posts: 2, messagesRecorded: 2 }],
      });
    });

    it('answers 404 with an ACS error for an unknown operation', async () => {
      const response = await emulator.poll(randomUUID());

      expect(response.status).toBe(404);
      expect((response.body as ErrorBody).error.code).toBe('NotFound');
      expect(response.headers['x-ms-error-code']).toBe('NotFound');
    });
  });

  describe('authentication', () => {
    it.each([
      ['a signature made with another key', { accessKey: OTHER_KEY }, /signature/],
      ['a content hash that does not match the body', { contentHash: 'AAAA' }, /x-ms-content-sha256/],
      ['a request dated 20 minutes ago', { date: new Date(Date.now() - 20 * 60_000) }, /more than 900 s off/],
    ])('refuses %s with 401 Denied', async (_case, options, reason) => {
      const response = await emulator.send(emailTo('a@example.org'), options);

      expect(response.status).toBe(401);
      expect((response.body as ErrorBody).error).toEqual({
        code: 'Denied',
        message: expect.stringMatching(reason),
      });
      expect(response.headers['x-ms-error-code']).toBe('Denied');
    });

    it('refuses a request without Authorization, and polls with a bad signature', async () => {
      const unsigned = await fetch(`${emulator.url}/emails:send?api-version=2025-09-01`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(emailTo('a@example.org')),
      });
      const poll = await emulator.poll(randomUUID(), { accessKey: OTHER_KEY });

      expect(unsigned.status).toBe(401);
      expect(await unsigned.json()).toMatchObject({ error: { code: 'Denied' } });
      expect(poll.status).toBe(401);
      expect(await stats()).toMatchObject({
        messages: 0,
        requests: { send: { '401': 1 }, poll: { '401': 1 } },
      });
    });
  });

  describe('validation', () => {
    const valid = emailTo('a@example.org');
    it.each([
      ['no senderAddress', { ...valid, senderAddress: undefined }, /senderAddress/],
      ['no subject', { ...valid, content: { plainText: 'x' } }, /subject/],
      [
        'no recipients.to',
        { ...valid, recipients: { cc: [{ address: 'a@example.org' }] } },
        /recipients\.to/,
      ],
      ['an empty recipients.to', { ...valid, recipients: { to: [] } }, /at least one/],
      ['a recipient without address', { ...valid, recipients: { to: [{ displayName: 'x' }] } }, /address/],
      ['a malformed address', emailTo('not-an-address'), /Invalid format for email address 'not-an-address'/],
    ])('answers 400 for %s', async (_case, body, message) => {
      const response = await emulator.send(body);

      expect(response.status).toBe(400);
      expect((response.body as ErrorBody).error.message).toMatch(message);
    });

    it('answers 400 for a non-GUID Operation-Id and for a missing api-version', async () => {
      const badId = await emulator.send(valid, { operationId: 'not-a-guid' });
      expect(badId.status).toBe(400);

      const url = new URL(`${emulator.url}/emails:send`);
      const noVersion = await signedRequest('POST', url, valid, { accessKey: emulator.accessKey });
      expect(noVersion.status).toBe(400);
      expect((noVersion.body as ErrorBody).error.code).toBe('MissingApiVersionParameter');
    });

    it('answers 413 for a request over 10 MB', async () => {
      const huge = {
        ...valid,
        attachments: [
          { name: 'big.bin', contentType: 'application/octet-stream', contentInBase64: 'A'.repeat(11e6) },
        ],
      };

      const response = await emulator.send(huge);

      expect(response.status).toBe(413);
      expect((response.body as ErrorBody).error.code).toBe('PayloadTooLarge');
    });
  });

  describe('scripted behaviour', () => {
    it('fails the operation with a configurable error code', async () => {
      await addRules({
        match: '*@example.org',
        behaviour: { type: 'fail', error: { code: 'EmailTooBig', message: 'too big' }, delayMs: 0 },
      });
      const { id } = (await emulator.send(emailTo('a@example.org'))).body as SendResultBody;

      expect((await emulator.poll(id)).body).toEqual({
        id,
        status: 'Failed',
        error: { code: 'EmailTooBig', message: 'too big' },
      });
    });

    it('fails suppressed recipients with EmailDroppedAllRecipientsSuppressed (built-in @suppressed.test)', async () => {
      const { id } = (await emulator.send(emailTo('x@suppressed.test'))).body as SendResultBody;

      await expectEventually(async () =>
        expect((await emulator.poll(id)).body).toMatchObject({
          status: 'Failed',
          error: { code: 'EmailDroppedAllRecipientsSuppressed' },
        }),
      );
    });

    it('refuses scripted invalid addresses with "Invalid format for email address" (built-in @invalid.test)', async () => {
      const response = await emulator.send(emailTo(['ok@example.org', 'x@invalid.test']));

      expect(response.status).toBe(400);
      expect((response.body as ErrorBody).error.message).toContain(
        "Invalid format for email address 'x@invalid.test'",
      );
      expect((await stats()).messages).toBe(0);
    });

    it('throttles with 429 and Retry-After (built-in @throttle.test)', async () => {
      const response = await emulator.send(emailTo('x@throttle.test'));

      expect(response.status).toBe(429);
      expect(response.headers['retry-after']).toBe('2');
      expect((response.body as ErrorBody).error).toEqual({
        code: 'TooManyRequests',
        message: 'PerSubscriptionPerMinuteLimitExceeded - Please try again after 2 seconds.',
      });
    });

    it('throttles only the first N requests when `times` is set', async () => {
      await addRules({ match: '*', times: 2, behaviour: { type: 'throttle', retryAfterSeconds: 7 } });

      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await emulator.send(emailTo('a@example.org'))).status);

      expect(statuses).toEqual([429, 429, 202]);
    });

    it('throttles for a while when `forMs` is set', async () => {
      await addRules({ match: '*', forMs: 300, behaviour: 'throttle' });

      expect((await emulator.send(emailTo('a@example.org'))).status).toBe(429);
      expect((await emulator.send(emailTo('a@example.org'))).status).toBe(429);
      await expectEventually(async () =>
        expect((await emulator.send(emailTo('a@example.org'))).status).toBe(202),
      );
    });

    it('answers a configurable 5xx, first N times then succeeds', async () => {
      await addRules({ match: '*@example.org', times: 1, behaviour: { type: 'serverError', status: 500 } });

      const failed = await emulator.send(emailTo('a@example.org'));
      const succeeded = await emulator.send(emailTo('a@example.org'));

      expect(failed.status).toBe(500);
      expect((failed.body as ErrorBody).error.code).toBe('InternalServerError');
      expect(succeeded.status).toBe(202);
      expect((await emulator.send(emailTo('a@error.test'))).status).toBe(503);
      expect(await stats()).toMatchObject({ messages: 1, requests: { send: { '5xx': 2 } } });
    });

    it('delays the answer for slow responses', async () => {
      await addRules({ match: '*@example.org', behaviour: { type: 'succeed', responseDelayMs: 400 } });

      const started = Date.now();
      const response = await emulator.send(emailTo('a@example.org'));

      expect(response.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    });

    it('with Operation-Id de-duplication switched on, de-duplicates a retry that arrives while the first request is still being answered slowly', async () => {
      await emulator.admin('PUT', '/admin/settings', { deduplicateOperationIds: true });
      await addRules({ match: '*@example.org', behaviour: { type: 'succeed', responseDelayMs: 300 } });
      const operationId = randomUUID();

      const [first, second] = await Promise.all([
        emulator.send(emailTo('a@example.org'), { operationId }),
        emulator.send(emailTo('a@example.org'), { operationId }),
      ]);

      expect([first.status, second.status]).toEqual([202, 202]);
      expect(await stats()).toMatchObject({ messages: 1, notificationsSentMoreThanOnce: 0 });
    });

    it('drops the connection without an answer', async () => {
      await expect(emulator.send(emailTo('x@drop.test'))).rejects.toThrow(/socket hang up|ECONNRESET/);

      expect(await stats()).toMatchObject({ messages: 0, requests: { send: { dropped: 1 } } });
    });

    it('records the message before dropping when `afterAccept` is set', async () => {
      await addRules({ match: '*@example.org', behaviour: { type: 'drop', afterAccept: true } });

      await expect(emulator.send(emailTo('a@example.org'))).rejects.toThrow(/socket hang up|ECONNRESET/);

      expect(await stats()).toMatchObject({ messages: 1, requests: { send: { dropped: 1 } } });
    });

    it('enforces a sustained rate limit across all recipients', async () => {
      await emulator.admin('PUT', '/admin/rate-limit', { perMinute: 3 });

      const statuses = [];
      for (let i = 0; i < 3; i += 1)
        statuses.push((await emulator.send(emailTo(`r${i}@example.org`))).status);
      const limited = await emulator.send(emailTo('other@example.com'));

      expect(statuses).toEqual([202, 202, 202]);
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((limited.body as ErrorBody).error.message).toBe(
        `PerSubscriptionPerMinuteLimitExceeded - Please try again after ${retryAfter} seconds.`,
      );
      expect(await stats()).toMatchObject({ messages: 3, requests: { send: { '429': 1, rateLimited: 1 } } });
    });

    it('matches regular expressions, evaluates installed rules before built-ins, and can switch built-ins off', async () => {
      await addRules([
        { id: 'numbered', match: '/^user-\\d+@example\\.org$/', behaviour: 'throttle' },
        { id: 'fail-not', match: '*@fail.test', behaviour: { type: 'succeed', delayMs: 0 } },
      ]);

      expect((await emulator.send(emailTo('user-42@example.org'))).status).toBe(429);
      expect((await emulator.send(emailTo('user-x@example.org'))).status).toBe(202);
      const overridden = (await emulator.send(emailTo('a@fail.test'))).body as SendResultBody;
      expect((await emulator.poll(overridden.id)).body).toMatchObject({ status: 'Succeeded' });

      await emulator.admin('DELETE', '/admin/rules/fail-not');
      await emulator.admin('PUT', '/admin/built-in-rules', { enabled: false });
      expect((await emulator.send(emailTo('a@throttle.test'))).status).toBe(202);

      const { body } = await emulator.admin<{
        rules: { id: string; hits: number }[];
        builtIns: { enabled: boolean };
      }>('GET', '/admin/rules');
      expect(body.rules).toEqual([expect.objectContaining({ id: 'numbered', hits: 1 })]);
      expect(body.builtIns.enabled).toBe(false);
    });

    it('refuses malformed rules with a 400 that names the problem', async () => {
      const typo = await emulator.admin<{ issues: { path: string }[] }>('POST', '/admin/rules', {
        match: '*',
        behavior: 'fail',
      });
      const badRegex = await emulator.admin('POST', '/admin/rules', { match: '/(/', behaviour: 'fail' });
      const unknownType = await emulator.admin('POST', '/admin/rules', { match: '*', behaviour: 'explode' });

      expect(typo.status).toBe(400);
      expect(badRegex.status).toBe(400);
      expect(unknownType.status).toBe(400);
      expect((await emulator.admin<{ rules: unknown[] }>('GET', '/admin/rules')).body.rules).toEqual([]);
    });
  });

  describe('inspection', () => {
    it('pages through messages with after/limit, since and recipient filters', async () => {
      for (let i = 0; i < 5; i += 1) await emulator.send(emailTo(`r${i}@example.org`, `Subject ${i}`));
      type Page = {
        messages: { seq: number; subject: string; receivedAt: string }[];
        nextAfter?: number;
        stored: number;
      };

      const first = (await emulator.admin<Page>('GET', '/admin/messages?limit=2')).body;
      const second = (await emulator.admin<Page>('GET', `/admin/messages?limit=2&after=${first.nextAfter}`))
        .body;
      const byRecipient = (await emulator.admin<Page>('GET', '/admin/messages?recipient=R3@example.org'))
        .body;
      const oldest = first.messages[0]!;
      const since = (
        await emulator.admin<Page>('GET', `/admin/messages?since=${encodeURIComponent(oldest.receivedAt)}`)
      ).body;

      expect(first.messages.map((m) => m.subject)).toEqual(['Subject 0', 'Subject 1']);
      expect(first.stored).toBe(5);
      expect(second.messages.map((m) => m.subject)).toEqual(['Subject 2', 'Subject 3']);
      expect(byRecipient.messages.map((m) => m.subject)).toEqual(['Subject 3']);
      expect(byRecipient.nextAfter).toBeUndefined();
      expect(since.messages).toHaveLength(5);
    });

    it('reports an operation with its POST count and message, and resets everything', async () => {
      const operationId = randomUUID();
      await emulator.send(emailTo('a@example.org', 'Inspect me'), { operationId });

      const view = await emulator.admin('GET', `/admin/operations/${operationId}`);
      expect(view.body).toMatchObject({
        id: operationId,
        status: 'Running',
        posts: 1,
        messagesRecorded: 1,
        message: { subject: 'Inspect me', recipients: { to: [{ address: 'a@example.org' }] } },
      });

      await emulator.admin('POST', '/admin/reset');
      expect((await emulator.admin('GET', `/admin/operations/${operationId}`)).status).toBe(404);
      expect(await stats()).toMatchObject({ messages: 0, operations: 0, requests: { send: { total: 0 } } });
    });
  });
});
