import { EmailContract } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { type ReceivedRecord } from '@notifications/messaging/testing';
import {
  API,
  ApiClient,
  createTestResources,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

// The API's largest body (100 000 characters) in characters of 2 and 3 UTF-8 bytes, with the placeholder.
const LARGE_BODY = `Hei $recipientName$! ${'жи漢字'.repeat(25_000)}`.slice(0, 100_000);
const RECIPIENTS = 200;

interface NotificationsView {
  readonly notifications: readonly {
    readonly recipient: { readonly emailAddress?: string };
    readonly sendStatus: { readonly status: string };
  }[];
}

describe('large orders against the real broker', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;
  let emails: ReceivedRecord[];

  beforeAll(async () => {
    resources = await createTestResources('large');
    server = await startOrdersApp(resources);
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    emails = await resources.kafka.read([resources.topics.emailQueue.name]);
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  async function unpublishedOutboxRows(): Promise<number> {
    const [row] = await resources.db.dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM outbox WHERE published_at IS NULL',
    );
    return row?.count ?? -1;
  }

  // Each email is parsed once: the large order's are 300 kB each.
  const addresses = new Set<string>();
  let parsed = 0;
  function addressesOn(): Set<string> {
    for (; parsed < emails.length; parsed += 1) {
      addresses.add(EmailContract.parse(emails[parsed]?.value ?? null).toAddress);
    }
    return addresses;
  }

  it('publishes every email of a 100 000-character non-Latin-1 order in byte-bounded batches while a small order posted meanwhile goes through', async () => {
    const large = await api.post(`${API}/orders/email`, {
      subject: 'Stor melding',
      body: LARGE_BODY,
      recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({ emailAddress: `large-${i}@example.com` })),
    });
    expect(large.status).toBe(202);
    const small = await api.post(`${API}/orders/email`, {
      subject: 'Liten',
      body: 'Hei $recipientName$',
      recipients: [{ emailAddress: 'small@example.com' }],
    });
    expect(small.status).toBe(202);

    await expectEventually(
      () => {
        const seen = addressesOn();
        expect(seen.has('small@example.com')).toBe(true);
        expect([...seen].filter((address) => address.startsWith('large-'))).toHaveLength(RECIPIENTS);
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    const sample = EmailContract.parse(
      emails.find((record) => EmailContract.parse(record.value ?? null).toAddress === 'large-0@example.com')
        ?.value ?? null,
    );
    expect(sample.body).toBe(LARGE_BODY.replace('$recipientName$', ''));
    // The relay marks a row published after the broker acknowledged it, so a consumer can see the record first.
    await expectEventually(async () => expect(await unpublishedOutboxRows()).toBe(0));
  }, 300_000);

  it('ends a notification Failed when its personalised email fits in no Kafka record, and sends the others of its order', async () => {
    // HTML-escaped, each `"` becomes `&quot;`: 6 666 placeholders × 1 200 bytes ≈ 8 MB for this recipient.
    await resources.db.dataSource.query(
      'INSERT INTO contact_points (national_identity_number, name, email) VALUES ($1, $2, $3)',
      ['05058012345', '"'.repeat(200), 'long-name@example.com'],
    );
    const created = await api.post<{ orderId: string }>(`${API}/orders/email`, {
      subject: 'Personalised',
      body: '$recipientName$'.repeat(6_666),
      contentType: 'Html',
      recipients: [{ nationalIdentityNumber: '05058012345' }, { emailAddress: 'plain@example.com' }],
    });
    expect(created.status).toBe(202);

    const view = await expectEventually(
      async () => {
        const response = await api.get<NotificationsView>(
          `${API}/orders/${created.body.orderId}/notifications/email`,
        );
        const statuses = new Map(
          response.body.notifications.map((n) => [n.recipient.emailAddress, n.sendStatus.status]),
        );
        expect(statuses.get('long-name@example.com')).toBe('Failed');
        expect(statuses.get('plain@example.com')).toBe('Sending');
        return statuses;
      },
      { timeoutMs: 60_000 },
    );
    expect(view.size).toBe(2);
    await expectEventually(() => expect(addressesOn().has('plain@example.com')).toBe(true));
    expect(addressesOn().has('long-name@example.com')).toBe(false);
    await expectEventually(async () => expect(await unpublishedOutboxRows()).toBe(0));
  }, 120_000);
});
