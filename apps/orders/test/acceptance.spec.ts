import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  EmailContract,
  SendOperationResultContract,
  type SendOperationResult,
  EmailNotificationSummaryResponse,
  OrderWithStatusResponse,
} from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { type ReceivedRecord } from '@notifications/messaging/testing';
import { loadOrdersConfig } from '../src/config/orders.config';
import { expectShape } from './support/assertions';
import {
  API,
  ApiClient,
  createTestResources,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

const run = promisify(execFile);
const APP_ROOT = join(__dirname, '..');

describe('acceptance: an email order from a development token to email.queue', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let keyDir: string;
  let devEnv: Record<string, string>;

  beforeAll(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'orders-dev-key-'));
    resources = await createTestResources('acceptance');
    // The default development configuration: no AUTH_JWT_PUBLIC_KEY / AUTH_JWKS_URL, so the dev key is trusted.
    const { AUTH_JWT_PUBLIC_KEY: _testKey, ...env } = resources.env;
    devEnv = { ...env, APP_ENV: 'development', AUTH_DEV_KEY_FILE: join(keyDir, 'jwt-dev-key.json') };
    const config = loadOrdersConfig(devEnv);
    expect(config.auth.key.kind).toBe('dev');
    server = await startOrdersApp(resources, { config });
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
    rmSync(keyDir, { recursive: true, force: true });
  });

  async function devToken(org: string): Promise<string> {
    // What `npm run token -- --org ttd` runs, from source.
    const { stdout } = await run(
      process.execPath,
      [
        '--conditions=@notifications/source',
        '-r',
        '@swc-node/register',
        join(APP_ROOT, 'src', 'tools', 'token.ts'),
        '--org',
        org,
      ],
      { env: { ...process.env, ...devEnv, SWC_NODE_PROJECT: join(APP_ROOT, 'tsconfig.spec.json') } },
    );
    return stdout.trim();
  }

  it('stores the order, processes it at its send time, publishes wire-format emails, and reports each stage', async () => {
    const token = await devToken('ttd');
    expect(token.split('.')).toHaveLength(3);
    const api = new ApiClient(server.baseUrl, token);
    const emails: ReceivedRecord[] = await resources.kafka.read([resources.topics.emailQueue.name]);
    const statusOf = async () =>
      expectShape(OrderWithStatusResponse, (await api.get(`${API}/orders/${orderId}/status`)).body);

    // Stored: Registered until its send time.
    const sendTime = new Date(Date.now() + 3_000);
    const created = await api.post<{ orderId: string }>(`${API}/orders/email`, {
      sendersReference: 'acceptance-1',
      requestedSendTime: sendTime.toISOString(),
      subject: 'Hello $recipientName$',
      body: '<p>Dear $recipientName$ ($recipientNumber$)</p>',
      contentType: 'Html',
      recipients: [
        { emailAddress: 'acceptance@example.com' },
        { nationalIdentityNumber: '01017012345' },
        { organizationNumber: '910000001' },
        { nationalIdentityNumber: '02028012345' },
      ],
    });
    expect(created.status).toBe(202);
    const { orderId } = created.body;
    expect((await statusOf()).processingStatus.status).toBe('Registered');

    // Processed at its send time: notifications created, emails claimed.
    const processed = await expectEventually(async () => {
      const status = await statusOf();
      expect(status.processingStatus.status).toBe('Processed');
      expect(status.notificationsStatusSummary.email).toMatchObject({ generated: 5, succeeded: 0 });
      return status;
    });
    expect(Date.parse(processed.processingStatus.lastUpdate)).toBeGreaterThanOrEqual(sendTime.getTime());

    // On email.queue, in the wire format, keyed by notification id, personalised.
    const published = await expectEventually(() => {
      expect(emails).toHaveLength(4);
      return emails;
    });
    for (const record of published) {
      const email = EmailContract.parse(record.value ?? null);
      expect(record.key).toBe(email.notificationId);
      expect(record.value).toBe(EmailContract.serialize(email));
    }
    expect(
      published
        .map((record) => EmailContract.parse(record.value ?? null))
        .map(({ toAddress, subject, body, fromAddress, contentType }) => ({
          toAddress,
          subject,
          body,
          fromAddress,
          contentType,
        }))
        .sort((a, b) => a.toAddress.localeCompare(b.toAddress)),
    ).toEqual([
      {
        toAddress: 'acceptance@example.com',
        subject: 'Hello ',
        body: '<p>Dear  ()</p>',
        fromAddress: 'noreply@altinn.cloud',
        contentType: 'Html',
      },
      {
        toAddress: 'ola.nordmann@example.com',
        subject: 'Hello Ola Nordmann',
        body: '<p>Dear Ola Nordmann (01017012345)</p>',
        fromAddress: 'noreply@altinn.cloud',
        contentType: 'Html',
      },
      {
        toAddress: 'post@eksempel-as.example.no',
        subject: 'Hello Eksempel AS',
        body: '<p>Dear Eksempel AS (910000001)</p>',
        fromAddress: 'noreply@altinn.cloud',
        contentType: 'Html',
      },
      {
        toAddress: 'varsel@eksempel-as.example.no',
        subject: 'Hello Eksempel AS',
        body: '<p>Dear Eksempel AS (910000001)</p>',
        fromAddress: 'noreply@altinn.cloud',
        contentType: 'Html',
      },
    ]);

    const notifications = expectShape(
      EmailNotificationSummaryResponse,
      (await api.get(`${API}/orders/${orderId}/notifications/email`)).body,
    );
    expect(notifications.notifications.map((n) => n.sendStatus.status).sort()).toEqual([
      'Failed_RecipientReserved',
      'Sending',
      'Sending',
      'Sending',
      'Sending',
    ]);

    // The sender and the poller report back: Succeeded, then delivery reports (operation id only).
    const ids = published.map((record) => record.key!);
    const report = async (updates: SendOperationResult[]) =>
      resources.kafka.produceRaw(
        resources.topics.emailStatusUpdated.name,
        updates.map((update) => ({
          key: resources.topics.emailStatusUpdated.keyOf(update) ?? '',
          value: SendOperationResultContract.serialize(update),
        })),
      );
    await report(ids.map((id) => ({ notificationId: id, operationId: id, sendResult: 'Succeeded' })));
    await expectEventually(async () => {
      const status = await statusOf();
      expect(status.notificationsStatusSummary.email).toMatchObject({ generated: 5, succeeded: 4 });
      expect(status.processingStatus.status).toBe('Processed');
    });
    await report(ids.map((id) => ({ operationId: id, sendResult: 'Delivered' })));
    await expectEventually(async () => {
      const status = await statusOf();
      expect(status.processingStatus.status).toBe('Completed');
      expect(status.notificationsStatusSummary.email).toMatchObject({ generated: 5, succeeded: 4 });
    });
    const final = expectShape(
      EmailNotificationSummaryResponse,
      (await api.get(`${API}/orders/${orderId}/notifications/email`)).body,
    );
    expect(final.notifications.map((n) => n.sendStatus.status).sort()).toEqual([
      'Delivered',
      'Delivered',
      'Delivered',
      'Delivered',
      'Failed_RecipientReserved',
    ]);
  });
});
