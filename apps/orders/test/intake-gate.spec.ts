import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { expectEventually } from '@notifications/testing';
import { IntakeGate } from '../src/api/intake-gate';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

// The intake gate over real HTTP: large bodies are admitted by bytes in flight only after the bearer token was
// verified, and a stranger's body is refused before it is read.

const GATE_BYTES = 256 * 1024;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface PostInProgress {
  readonly answer: Promise<Answer>;
  /** Sends the rest of the body. */
  finish(): void;
  abort(): void;
}

/** A JSON order body of about `bytes` bytes (each recipient ≈ 40 bytes). */
function orderOfSize(bytes: number, tag: string): Buffer {
  const recipients = Array.from({ length: Math.ceil(bytes / 40) }, (_, index) => ({
    emailAddress: `${tag}-${index}@example.com`,
  }));
  return Buffer.from(JSON.stringify(emailOrder({ recipients })));
}

/**
 * POSTs `body` to the order route, sending only its first `sentFirst` bytes until `finish()`: the answer to a
 * request whose body is still on its way shows what the server decided without reading it.
 */
function postInPieces(
  baseUrl: string,
  token: string | undefined,
  body: Buffer,
  sentFirst: number,
): PostInProgress {
  const url = new URL(`${baseUrl}${API}/orders/email`);
  const request = httpRequest(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', reject);
  });
  request.write(body.subarray(0, sentFirst));
  return {
    answer,
    finish: () => request.end(body.subarray(sentFirst)),
    abort: () => request.destroy(),
  };
}

describe('IntakeGate over HTTP', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let gate: IntakeGate;
  let token: string;

  beforeAll(async () => {
    resources = await createTestResources('intakegate', {
      ORDERS_SCHEDULER_ENABLED: 'false',
      ORDERS_INTAKE_BYTES_IN_FLIGHT: String(GATE_BYTES),
      ORDERS_INTAKE_MAX_WAIT: '1s',
    });
    server = await startOrdersApp(resources);
    gate = server.app.get(IntakeGate);
    token = resources.auth.token('ttd');
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  it('refuses a large body without a valid token before it is sent, and gives it no room', async () => {
    const body = orderOfSize(5 * 1024 * 1024, 'stranger');
    const strangers = [
      postInPieces(server.baseUrl, undefined, body, 16 * 1024),
      postInPieces(server.baseUrl, 'not-a-token', body, 16 * 1024),
    ];
    try {
      // Nothing beyond the first 16 KiB was sent: the answer came without reading (or waiting for) the body.
      for (const stranger of strangers) {
        const answer = await stranger.answer;
        expect(answer.status).toBe(401);
        expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
      }
      expect(gate.state).toEqual({ bytesInFlight: 0, waiting: 0 });
      // Meanwhile a tenant's large order fits the whole gate.
      const tenant = await new ApiClient(server.baseUrl, token).request('POST', `${API}/orders/email`, {
        body: orderOfSize(GATE_BYTES - 16 * 1024, 'tenant').toString('utf8'),
        headers: { 'content-type': 'application/json' },
      });
      expect(tenant.status).toBe(202);
    } finally {
      for (const stranger of strangers) stranger.abort();
    }
  });

  it('lets a large order wait while the gate is full, refuses it with 503 and Retry-After after the wait, and lets small orders by', async () => {
    const api = new ApiClient(server.baseUrl, token);
    const large = orderOfSize(160 * 1024, 'first');
    // Admitted, then holds its bytes while its body is still arriving.
    const first = postInPieces(server.baseUrl, token, large, 1024);
    await expectEventually(() => expect(gate.state.bytesInFlight).toBe(large.length));

    const small = await api.post(`${API}/orders/email`, emailOrder());
    expect(small.status).toBe(202);

    const refused = await api.request('POST', `${API}/orders/email`, {
      body: orderOfSize(160 * 1024, 'refused').toString('utf8'),
      headers: { 'content-type': 'application/json' },
    });
    expect(refused.status).toBe(503);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('1');

    // One that is still waiting when the first one is done gets in.
    const second = postInPieces(server.baseUrl, token, orderOfSize(160 * 1024, 'second'), 0);
    second.finish();
    await expectEventually(() => expect(gate.state.waiting).toBe(1));
    first.finish();
    expect((await first.answer).status).toBe(202);
    expect((await second.answer).status).toBe(202);
    await expectEventually(() => expect(gate.state).toEqual({ bytesInFlight: 0, waiting: 0 }));
  });

  it('answers a large order with a bad body as before: the same 400 problem, its room given back', async () => {
    const api = new ApiClient(server.baseUrl, token);
    const recipients = Array.from({ length: 5_000 }, (_, index) => ({
      emailAddress: `r${index}@example.com`,
    }));
    recipients[4_321] = { emailAddress: 'not an address' };
    const response = await api.post<{ errors: Record<string, string[]> }>(
      `${API}/orders/email`,
      emailOrder({ recipients }),
    );
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual({
      'recipients[4321].emailAddress': ['must be a valid email address'],
    });
    const malformed = await api.request('POST', `${API}/orders/email`, {
      body: `{"subject": "S", "body": "B", "recipients": [${'{"emailAddress":"a@example.com"},'.repeat(3_000)}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.contentType).toMatch(/^application\/problem\+json/);
    expect(gate.state).toEqual({ bytesInFlight: 0, waiting: 0 });
  });
});
