import fc from 'fast-check';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type HttpResult,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

// Property-based tests of the public API: whatever a caller with a valid token sends — any JSON, any text or
// bytes under any content type, any path segment or query — the answer is never a 5xx, and every refusal is a
// problem-details document. fast-check prints the seed and the shrunk request of a failure (re-run it with
// `fc.assert(..., { seed, path })`).

const RUNS = 150;

describe('orders public API on arbitrary input', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;

  beforeAll(async () => {
    resources = await createTestResources('apifuzz');
    server = await startOrdersApp(resources);
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  /** No 5xx; a refusal is problem details (RFC 9457). */
  function expectNoServerError(response: HttpResult, request: string): void {
    if (response.status >= 500) {
      throw new Error(`${request} → ${response.status} ${JSON.stringify(response.body).slice(0, 500)}`);
    }
    if (response.status >= 400) expect(response.contentType).toMatch(/^application\/problem\+json/);
  }

  async function post(body: string | Uint8Array, contentType: string | undefined): Promise<HttpResult> {
    const response = await fetch(`${server.baseUrl}${API}/orders/email`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${resources.auth.token('ttd')}`,
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      },
      body,
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      headers: response.headers,
      contentType: type,
      body: text,
    };
  }

  // A valid order with some of its fields (also nested ones) replaced by arbitrary JSON, or removed.
  const nearlyValidOrder = fc
    .record({
      field: fc.constantFrom(
        'subject',
        'body',
        'recipients',
        'contentType',
        'fromAddress',
        'sendersReference',
        'requestedSendTime',
        'ignoreReservation',
        'resourceId',
        'recipient',
        'emailAddress',
        'nationalIdentityNumber',
        'organizationNumber',
      ),
      value: fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        fc.string({ unit: 'binary' }),
        fc.double(),
        fc.bigInt().map((big) => big.toString()),
        // U+0000, which PostgreSQL cannot store, in a field and in a recipient.
        fc.string().map((text) => `${text}\u0000${text}`),
        fc.constant(undefined),
      ),
    })
    .map(({ field, value }) => {
      const order = emailOrder() as Record<string, unknown>;
      const recipient: Record<string, unknown> = { emailAddress: 'ola.nordmann@example.com' };
      if (['emailAddress', 'nationalIdentityNumber', 'organizationNumber', 'recipient'].includes(field)) {
        if (field === 'recipient') order['recipients'] = [value];
        else {
          recipient[field] = value;
          order['recipients'] = [recipient];
        }
      } else {
        order[field] = value;
      }
      return order;
    });

  it('POST /orders/email: arbitrary JSON values never get a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), nearlyValidOrder), async (value) => {
        const body = JSON.stringify(value) ?? 'null';
        expectNoServerError(await post(body, 'application/json'), `POST ${body.slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /orders/email: arbitrary text and bytes under any content type never get a 5xx', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        undefined,
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/json; charset=nonsense',
        'application/problem+json',
        'text/plain',
        'text/html',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        '*/*',
      ),
      fc.string({ minLength: 1, maxLength: 40 }).filter((type) => /^[\x21-\x7e]+$/.test(type)),
    );
    const body = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }).map((text) => `{"subject": "${text}"}`),
      fc.uint8Array({ maxLength: 2_000 }),
      // Invalid UTF-8 inside otherwise valid JSON: lone continuation bytes, overlong forms, surrogates.
      fc
        .array(fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xe0, 0xed, 0xf5, 0xff, 0x41), { maxLength: 20 })
        .map((bytes) =>
          Buffer.concat([Buffer.from('{"subject":"'), Buffer.from(bytes), Buffer.from('","body":"x"}')]),
        ),
      // Numbers beyond every range.
      fc
        .oneof(
          fc.bigInt().map((big) => `${big}`),
          fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890.5', '-0'),
        )
        .map((number) => JSON.stringify(emailOrder()).replace('"Your tax return"', number)),
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, async (raw, type) => {
        expectNoServerError(await post(raw, type), `POST (${String(type)}) ${String(raw).slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /orders/email: deep nesting within the body limit never gets a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200_000 }),
        fc.constantFrom('[', '{"a":'),
        fc.constantFrom('subject', 'recipients', 'body'),
        async (depth, opener, field) => {
          const closer = opener === '[' ? ']' : '}';
          const nested = `${opener.repeat(depth)}1${closer.repeat(depth)}`;
          const body = JSON.stringify(emailOrder()).replace(/^\{/, `{"${field}":${nested},`);
          expectNoServerError(await post(body, 'application/json'), `POST nested ${opener} × ${depth}`);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('arbitrary path segments and queries on every public endpoint never get a 5xx', async () => {
    const segment = fc.oneof(
      fc.string({ unit: 'binary' }).map((text) => encodeURIComponent(text)),
      // Raw, not encoded: stray %, dots, slashes and the like as a client may send them.
      fc.string({ unit: 'grapheme-ascii' }).map((text) => text.replace(/[#?\s]/g, '')),
      fc.uuid(),
      fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '..', '.', '%2e%2e', '%2F'),
    );
    const endpoint = fc.constantFrom(
      ['GET', ''],
      ['GET', '/status'],
      ['GET', '/notifications/email'],
      ['PUT', '/cancel'],
    );
    await fc.assert(
      fc.asyncProperty(segment, endpoint, async (id, [method, suffix]) => {
        const path = `${API}/orders/${id}${suffix}`;
        expectNoServerError(await api.request(method!, path), `${method} ${path}`);
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(segment, fc.string({ maxLength: 20 }), async (value, name) => {
        const path = `${API}/orders?sendersReference=${value}&${encodeURIComponent(name)}=${value}`;
        expectNoServerError(await api.get(path), `GET ${path}`);
      }),
      { numRuns: RUNS },
    );
  });
});
