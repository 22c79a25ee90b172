import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { EmailClient, type EmailClientOptions } from '@azure/communication-email';
import { acsSigningKey, parseAcsConnectionString, signAcsRequest } from '@notifications/acs';
import { type Email } from '@notifications/contracts';
import { AcsEmailClient, emailClientSigningWith, toEmailMessage } from './acs-email.client';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly operationId: string | undefined;
  readonly body: unknown;
}

type Reply = (request: IncomingMessage, response: ServerResponse, seen: Seen) => void;

/** A bare HTTP stand-in for ACS (no signature check): the SDK's behaviour is what is under test here. */
async function fakeAcs(reply: Reply): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const entry: Seen = {
        method: request.method ?? '',
        path: request.url ?? '',
        operationId: request.headers['operation-id'] as string | undefined,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      seen.push(entry);
      reply(request, response, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, seen, server };
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

const accept: Reply = (request, response, seen) =>
  json(
    response,
    202,
    { id: seen.operationId, status: 'Running' },
    {
      'operation-location': `http://${request.headers.host}/emails/operations/${seen.operationId}?api-version=2025-09-01`,
      'retry-after': '1',
    },
  );

function email(overrides: Partial<Email> = {}): Email {
  return {
    notificationId: randomUUID(),
    subject: 'Subject',
    body: 'Body',
    fromAddress: 'noreply@altinn.cloud',
    toAddress: 'ola.nordmann@example.com',
    contentType: 'Plain',
    ...overrides,
  };
}

describe(AcsEmailClient.name, () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function clientFor(reply: Reply, overrides: { timeoutMs?: number; maxRetries?: number } = {}) {
    const fake = await fakeAcs(reply);
    server = fake.server;
    const parsed = parseAcsConnectionString(
      `endpoint=${fake.url};accesskey=${Buffer.from('k').toString('base64')}`,
    );
    if (!parsed.ok) throw new Error('bad test connection string');
    const client = new AcsEmailClient({
      connection: parsed.value,
      requestTimeoutMs: overrides.timeoutMs ?? 2_000,
      maxRetries: overrides.maxRetries ?? 2,
      retryDelayMs: 10,
      maxRetryDelayMs: 50,
    });
    return { client, seen: fake.seen };
  }

  it('sends with the notification id as Operation-Id and returns once accepted, without a status check', async () => {
    const { client, seen } = await clientFor(accept);
    const message = email();
    await expect(client.send(message)).resolves.toEqual({
      kind: 'accepted',
      operationId: message.notificationId,
    });
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/emails:send?api-version=2025-09-01',
        operationId: message.notificationId,
        body: {
          senderAddress: 'noreply@altinn.cloud',
          content: { subject: 'Subject', plainText: 'Body' },
          recipients: { to: [{ address: 'ola.nordmann@example.com' }] },
        },
      },
    ]);
  });

  it('returns the operation id ACS answered with', async () => {
    const other = randomUUID();
    const { client } = await clientFor((_request, response) =>
      json(response, 202, { id: other, status: 'Running' }),
    );
    await expect(client.send(email())).resolves.toEqual({ kind: 'accepted', operationId: other });
  });

  it('does not retry a 429 inside the SDK', async () => {
    const { client, seen } = await clientFor((_request, response) =>
      json(
        response,
        429,
        { error: { code: 'TooManyRequests', message: 'slow down' } },
        { 'retry-after': '1' },
      ),
    );
    await expect(client.send(email())).resolves.toMatchObject({ kind: 'throttled', retryAfterMs: 1_000 });
    expect(seen).toHaveLength(1);
  });

  it('retries a 5xx inside the SDK a bounded number of times, always with the same Operation-Id', async () => {
    const { client, seen } = await clientFor((_request, response) =>
      json(response, 503, { error: { code: 'ServiceUnavailable', message: 'busy' } }),
    );
    const message = email();
    await expect(client.send(message)).resolves.toMatchObject({ kind: 'unavailable' });
    expect(seen.map((s) => s.operationId)).toEqual([
      message.notificationId,
      message.notificationId,
      message.notificationId,
    ]);
  });

  it('retries a dropped connection and is accepted when a later attempt gets through', async () => {
    let calls = 0;
    const { client, seen } = await clientFor((request, response, entry) => {
      calls += 1;
      if (calls === 1) request.socket.destroy();
      else accept(request, response, entry);
    });
    const message = email();
    await expect(client.send(message)).resolves.toEqual({
      kind: 'accepted',
      operationId: message.notificationId,
    });
    expect(seen.map((s) => s.operationId)).toEqual([message.notificationId, message.notificationId]);
  });

  it('retries a timed-out request, then reports ACS unavailable (an outage)', async () => {
    const { client, seen } = await clientFor(() => undefined, { timeoutMs: 100, maxRetries: 1 });
    await expect(client.send(email())).resolves.toMatchObject({
      kind: 'unavailable',
      outage: true,
      reason: expect.stringContaining('ETIMEDOUT') as unknown,
    });
    expect(seen).toHaveLength(2);
  });

  it('maps a refusal per SPEC section 4', async () => {
    const { client } = await clientFor((_request, response) =>
      json(response, 400, { error: { code: 'EmailDroppedAllRecipientsSuppressed', message: 'suppressed' } }),
    );
    await expect(client.send(email())).resolves.toMatchObject({
      kind: 'rejected',
      sendResult: 'Failed_SupressedRecipient',
    });
  });
});

describe(toEmailMessage.name, () => {
  it('sends an Html email as html content', () => {
    expect(toEmailMessage(email({ contentType: 'Html', body: '<p>Hi</p>' })).content).toEqual({
      subject: 'Subject',
      html: '<p>Hi</p>',
    });
  });
});

describe(emailClientSigningWith.name, () => {
  interface RawRequest {
    readonly method: string;
    readonly url: string;
    /** Header names as sent and in the order sent, with their values. */
    readonly headers: [string, string][];
    readonly body: string;
  }

  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** Accepts the POST and answers the SDK's one status GET with Running; records every request as it came. */
  async function recordingAcs(): Promise<{
    connectionString: string;
    accessKey: string;
    seen: RawRequest[];
  }> {
    const seen: RawRequest[] = [];
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i + 1 < request.rawHeaders.length; i += 2)
          headers.push([request.rawHeaders[i] ?? '', request.rawHeaders[i + 1] ?? '']);
        seen.push({ method: request.method ?? '', url: request.url ?? '', headers, body });
        const operationId = request.headers['operation-id'] as string | undefined;
        if (request.method === 'POST') {
          json(
            response,
            202,
            { id: operationId, status: 'Running' },
            {
              'operation-location': `http://${request.headers.host}/emails/operations/${operationId}?api-version=2025-09-01`,
            },
          );
        } else json(response, 200, { id: 'x', status: 'Running' });
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const accessKey = Buffer.from('a key for the test').toString('base64');
    return { connectionString: `endpoint=http://127.0.0.1:${port}/;accesskey=${accessKey}`, accessKey, seen };
  }

  // Differ from request to request whoever signs: the clock, the signature over it, the SDK's request id.
  const PER_REQUEST = new Set(['x-ms-date', 'authorization', 'x-ms-client-request-id']);
  const stable = (request: RawRequest) =>
    request.headers.map(([name, value]) => [name, PER_REQUEST.has(name.toLowerCase()) ? '…' : value]);

  it("sends what the SDK's own client sends, header for header, with a signature ACS accepts", async () => {
    const acs = await recordingAcs();
    const options: EmailClientOptions = { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } };
    const message = toEmailMessage(email());
    const operationId = randomUUID();

    await new EmailClient(acs.connectionString, options).beginSend(message, { operationId });
    const sdk = acs.seen.splice(0);
    await emailClientSigningWith(acsSigningKey(acs.accessKey), acs.connectionString, options).beginSend(
      message,
      { operationId },
    );
    const ours = acs.seen.splice(0);

    expect(ours.map((r) => `${r.method} ${r.url}`)).toEqual(sdk.map((r) => `${r.method} ${r.url}`));
    expect(ours.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(ours.map(stable)).toEqual(sdk.map(stable));
    expect(ours.map((r) => r.body)).toEqual(sdk.map((r) => r.body));
    // No tracing headers either way: the SDK's tracing policy, which ours leaves out, records nothing here.
    expect(sdk.flatMap((r) => r.headers.map(([name]) => name.toLowerCase()))).not.toContain('traceparent');
    for (const request of [...sdk, ...ours]) {
      // What the service does: recompute the signature from what arrived.
      const header = (name: string) => request.headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? '';
      const expected = signAcsRequest(
        acs.accessKey,
        request.method,
        new URL(request.url, `http://${header('host')}`),
        request.body,
        new Date(header('x-ms-date')),
      );
      expect(header('authorization')).toBe(expected.authorization);
    }
  });
});

describe(`${AcsEmailClient.name}: Repeatable Requests and operation lookups`, () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** The fake ACS, plus each POST's repeatability headers. */
  async function clientFor(reply: Reply) {
    const repeatability: { requestId: string | undefined; firstSent: string | undefined }[] = [];
    const fake = await fakeAcs((request, response, seen) => {
      if (request.method === 'POST') {
        repeatability.push({
          requestId: request.headers['repeatability-request-id'] as string | undefined,
          firstSent: request.headers['repeatability-first-sent'] as string | undefined,
        });
      }
      reply(request, response, seen);
    });
    server = fake.server;
    const parsed = parseAcsConnectionString(
      `endpoint=${fake.url};accesskey=${Buffer.from('k').toString('base64')}`,
    );
    if (!parsed.ok) throw new Error('bad test connection string');
    const client = new AcsEmailClient({
      connection: parsed.value,
      requestTimeoutMs: 2_000,
      maxRetries: 2,
      retryDelayMs: 10,
      maxRetryDelayMs: 50,
    });
    return { client, seen: fake.seen, repeatability };
  }

  const error = (response: ServerResponse, status: number, code: string) =>
    json(response, status, { error: { code, message: code } }, { 'x-ms-error-code': code });

  it('sends one Repeatability-Request-Id and First-Sent on every SDK retry of a call, new ones per call', async () => {
    let posts = 0;
    const { client, repeatability } = await clientFor((request, response, seen) => {
      posts += 1;
      if (posts === 1) error(response, 503, 'ServiceUnavailable');
      else accept(request, response, seen);
    });

    await client.send(email());
    await client.send(email());

    expect(repeatability).toHaveLength(3);
    const [first, retry, next] = repeatability;
    expect(first?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first?.firstSent).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(retry).toEqual(first);
    expect(next?.requestId).not.toBe(first?.requestId);
  });

  it('reads 409 (original still in progress) as accepted, never as a failure', async () => {
    const { client, seen } = await clientFor((_request, response) => error(response, 409, 'Conflict'));
    const message = email();

    await expect(client.send(message)).resolves.toEqual({
      kind: 'accepted',
      operationId: message.notificationId,
    });
    expect(seen.map((entry) => entry.method)).toEqual(['POST']);
  });

  it('on 412 asks for the operation and, when ACS has it, reports accepted without sending again', async () => {
    const { client, seen } = await clientFor((_request, response, entry) =>
      entry.method === 'POST'
        ? error(response, 412, 'PreconditionFailed')
        : json(response, 200, { id: 'x', status: 'Succeeded' }),
    );
    const message = email();

    await expect(client.send(message)).resolves.toEqual({
      kind: 'accepted',
      operationId: message.notificationId,
    });
    expect(seen.map((entry) => `${entry.method} ${entry.path}`)).toEqual([
      'POST /emails:send?api-version=2025-09-01',
      `GET /emails/operations/${message.notificationId}?api-version=2025-09-01`,
    ]);
  });

  it('on 412 sends anew, with fresh repeatability headers, when ACS does not have the operation', async () => {
    let posts = 0;
    const { client, repeatability } = await clientFor((request, response, entry) => {
      if (entry.method === 'GET') return error(response, 404, 'NotFound');
      posts += 1;
      return posts === 1 ? error(response, 412, 'PreconditionFailed') : accept(request, response, entry);
    });
    const message = email();

    await expect(client.send(message)).resolves.toEqual({
      kind: 'accepted',
      operationId: message.notificationId,
    });
    expect(repeatability).toHaveLength(2);
    expect(repeatability[1]?.requestId).not.toBe(repeatability[0]?.requestId);
  });

  it('on 412 with no clear lookup answer, reports ACS unavailable (retried later), not Failed', async () => {
    const { client } = await clientFor((_request, response, entry) =>
      entry.method === 'POST'
        ? error(response, 412, 'PreconditionFailed')
        : error(response, 500, 'InternalServerError'),
    );

    await expect(client.send(email())).resolves.toMatchObject({ kind: 'unavailable' });
  });

  it.each([
    [
      200,
      { id: 'x', status: 'Failed', error: { code: 'EmailDropped', message: 'dropped' } },
      { kind: 'exists', status: 'Failed' },
    ],
    [200, { id: 'x', status: 'Running' }, { kind: 'exists', status: 'Running' }],
    [404, { error: { code: 'NotFound', message: 'no such operation' } }, { kind: 'absent' }],
    [503, { error: { code: 'ServiceUnavailable', message: 'busy' } }, { kind: 'unknown', outage: true }],
    [401, { error: { code: 'Denied', message: 'Denied' } }, { kind: 'unknown', outage: false }],
  ])('findOperation: HTTP %i → %o', async (status, body, expected) => {
    const { client } = await clientFor((_request, response) => json(response, status, body));

    await expect(client.findOperation(randomUUID())).resolves.toMatchObject(expected);
  });
});
