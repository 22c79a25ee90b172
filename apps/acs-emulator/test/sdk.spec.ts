import { EmailClient, type EmailMessage } from '@azure/communication-email';
import { isRestError } from '@azure/core-rest-pipeline';
import { randomUUID } from 'node:crypto';
import { startTestEmulator, type Stats, type TestEmulator } from './support/test-emulator';

const OTHER_KEY = Buffer.from('some-other-key-that-the-emulator-does-not-know').toString('base64');

function message(to: string, subject = 'Hello'): EmailMessage {
  return {
    senderAddress: 'noreply@example.org',
    content: { subject, plainText: `Body of ${subject}` },
    recipients: { to: [{ address: to, displayName: 'Recipient' }] },
  };
}

describe('ACS emulator driven by @azure/communication-email', () => {
  let emulator: TestEmulator;
  let client: EmailClient;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    client = new EmailClient(emulator.connectionString, { allowInsecureConnection: true });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.admin('POST', '/admin/reset?config=true'));

  const stats = async () => (await emulator.admin<Stats>('GET', '/admin/stats')).body;

  it('accepts a send and reports Succeeded to pollUntilDone', async () => {
    const poller = await client.beginSend(message('someone@example.org', 'Welcome'));
    const result = await poller.pollUntilDone();

    expect(result.status).toBe('Succeeded');
    const { body } = await emulator.admin<{ messages: { operationId: string; subject: string }[] }>(
      'GET',
      '/admin/messages',
    );
    expect(body.messages).toEqual([expect.objectContaining({ operationId: result.id, subject: 'Welcome' })]);
  });

  it('with Operation-Id de-duplication switched on, records one message for a repeated operation id and counts the duplicate POST', async () => {
    await emulator.admin('PUT', '/admin/settings', { deduplicateOperationIds: true });
    const operationId = randomUUID();
    const first = await (await client.beginSend(message('a@example.org'), { operationId })).pollUntilDone();
    const second = await (await client.beginSend(message('a@example.org'), { operationId })).pollUntilDone();

    expect(first).toEqual({ id: operationId, status: 'Succeeded' });
    expect(second).toEqual({ id: operationId, status: 'Succeeded' });
    expect(await stats()).toMatchObject({
      messages: 1,
      operations: 1,
      distinctOperationIds: 1,
      duplicateSends: 1,
      notificationsSentMoreThanOnce: 0,
    });
    const operation = await emulator.admin('GET', `/admin/operations/${operationId}`);
    expect(operation.body).toMatchObject({
      id: operationId,
      posts: 2,
      messagesRecorded: 1,
      status: 'Succeeded',
    });
  });

  it('with Operation-Id de-duplication switched on, records one message when the same operation id is sent concurrently', async () => {
    await emulator.admin('PUT', '/admin/settings', { deduplicateOperationIds: true });
    const operationId = randomUUID();
    await Promise.all(
      Array.from({ length: 5 }, () => client.beginSend(message('a@example.org'), { operationId })),
    );

    expect(await stats()).toMatchObject({ messages: 1, duplicateSends: 1, notificationsSentMoreThanOnce: 0 });
  });

  it('refuses a client signing with another access key (401, the SDK throws)', async () => {
    const stranger = new EmailClient(emulator.connectionString.replace(emulator.accessKey, OTHER_KEY), {
      allowInsecureConnection: true,
    });

    const error: unknown = await stranger
      .beginSend(message('a@example.org'))
      .catch((caught: unknown) => caught);

    expect(isRestError(error) && error.statusCode).toBe(401);
    expect(isRestError(error) && error.code).toBe('Denied');
    expect(await stats()).toMatchObject({ messages: 0, requests: { send: { '401': 1 } } });
  });

  it('makes pollUntilDone throw for a Failed operation', async () => {
    const poller = await client.beginSend(message('nobody@fail.test'));

    await expect(poller.pollUntilDone()).rejects.toThrow(/EmailDropped/);
  });

  it('lets a second poller resume from a serialised one (the status-poller pattern)', async () => {
    const started = await client.beginSend(message('a@example.org'));
    const resumed = await client.beginSend(message('a@example.org'), { resumeFrom: started.toString() });

    expect(await resumed.pollUntilDone()).toMatchObject({ status: 'Succeeded' });
    expect((await stats()).messages).toBe(1);
  });

  it('retries a 503 with the same operation id, so one message is recorded', async () => {
    await emulator.admin('POST', '/admin/rules', {
      match: '*@example.org',
      times: 1,
      behaviour: { type: 'serverError', status: 503 },
    });
    const operationId = randomUUID();

    const result = await (await client.beginSend(message('a@example.org'), { operationId })).pollUntilDone();

    expect(result.status).toBe('Succeeded');
    expect(await stats()).toMatchObject({
      messages: 1,
      duplicateSends: 1,
      notificationsSentMoreThanOnce: 0,
      requests: { send: { '5xx': 1, '202': 1 } },
    });
  });

  it('with Operation-Id de-duplication switched on, answers the retry after a connection dropped post-acceptance with the existing operation', async () => {
    await emulator.admin('PUT', '/admin/settings', { deduplicateOperationIds: true });
    await emulator.admin('POST', '/admin/rules', {
      match: '*@example.org',
      times: 1,
      behaviour: { type: 'drop', afterAccept: true },
    });
    const operationId = randomUUID();

    await (await client.beginSend(message('a@example.org'), { operationId })).pollUntilDone();

    expect(await stats()).toMatchObject({
      messages: 1,
      notificationsSentMoreThanOnce: 0,
      requests: { send: { dropped: 1, replayed: 1 } },
    });
  });

  it('shows the duplicate a retry causes when no operation id is passed', async () => {
    await emulator.admin('POST', '/admin/rules', {
      match: '*@example.org',
      times: 1,
      behaviour: { type: 'drop', afterAccept: true },
    });

    await (await client.beginSend(message('a@example.org'))).pollUntilDone();

    // Two operations, two messages: the emulator cannot tell they are one notification, except by content.
    expect(await stats()).toMatchObject({ messages: 2, distinctOperationIds: 2, sameContentMoreThanOnce: 1 });
  });
});
