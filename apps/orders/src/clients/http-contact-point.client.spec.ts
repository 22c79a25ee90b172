import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../domain/address-policy';
import { OutboundHttpClient } from './outbound-http.client';
import { ContactPointUnavailableError } from '../domain/contact-point.service';
import { HttpContactPointClient } from './http-contact-point.client';

const allowing = (...entries: string[]) =>
  new OutboundHttpClient(new AddressPolicy(entries.map((entry) => parseAllowEntry(entry) as AllowEntry)));
// The test register listens on loopback, which the guard refuses unless allow-listed.
const loopbackAllowed = allowing('127.0.0.0/8');
const limits = { maxResponseBytes: 64 * 1024, outbound: loopbackAllowed };

type Handler = (path: string, body: Record<string, string[]>, response: ServerResponse) => void;

describe(HttpContactPointClient.name, () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  const requests: { path: string; body: Record<string, string[]> }[] = [];

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const body = JSON.parse(text) as Record<string, string[]>;
        requests.push({ path: request.url ?? '', body });
        handler(request.url ?? '', body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/profile/api/v1`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    requests.length = 0;
  });

  const json = (response: ServerResponse, status: number, body: unknown) => {
    response.statusCode = status;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(body));
  };

  it("calls Profile's look-up endpoints in batches and maps their answers", async () => {
    handler = (path, body, response) => {
      if (path.endsWith('/users/contactpoint/lookup')) {
        json(response, 200, {
          contactPointsList: (body['nationalIdentityNumbers'] ?? []).map((nin) => ({
            nationalIdentityNumber: nin,
            email: nin === '02028012345' ? null : `${nin}@example.com`,
            mobileNumber: '+4799999999',
            isReserved: nin === '02028012345',
            userId: 1,
          })),
        });
      } else {
        json(response, 200, {
          contactPointsList: [
            {
              organizationNumber: '910000001',
              emailList: ['post@org.example', ''],
              mobileNumberList: [],
              partyId: 5,
            },
          ],
        });
      }
    };
    const client = new HttpContactPointClient({ baseUrl, timeoutMs: 2_000, batchSize: 2, ...limits });
    const persons = await client.lookupPersons(['01017012345', '02028012345', '03039012345']);
    expect(persons).toEqual([
      { nationalIdentityNumber: '01017012345', isReserved: false, email: '01017012345@example.com' },
      { nationalIdentityNumber: '02028012345', isReserved: true },
      { nationalIdentityNumber: '03039012345', isReserved: false, email: '03039012345@example.com' },
    ]);
    expect(requests.map((r) => [r.path, r.body])).toEqual([
      [
        '/profile/api/v1/users/contactpoint/lookup',
        { nationalIdentityNumbers: ['01017012345', '02028012345'] },
      ],
      ['/profile/api/v1/users/contactpoint/lookup', { nationalIdentityNumbers: ['03039012345'] }],
    ]);
    expect(await client.lookupOrganizations(['910000001'])).toEqual([
      { organizationNumber: '910000001', emails: ['post@org.example'] },
    ]);
    expect(requests.at(-1)).toEqual({
      path: '/profile/api/v1/organizations/notificationaddresses/lookup',
      body: { organizationNumbers: ['910000001'] },
    });
  });

  it('reports errors, unexpected bodies and timeouts as ContactPointUnavailableError', async () => {
    const client = new HttpContactPointClient({ baseUrl, timeoutMs: 300, batchSize: 10, ...limits });
    handler = (_, __, response) => json(response, 503, { title: 'down' });
    await expect(client.lookupPersons(['01017012345'])).rejects.toThrow(ContactPointUnavailableError);
    handler = (_, __, response) => json(response, 200, { unexpected: true });
    await expect(client.lookupPersons(['01017012345'])).rejects.toThrow(/unexpected body/);
    handler = () => undefined;
    await expect(client.lookupOrganizations(['910000001'])).rejects.toThrow(ContactPointUnavailableError);
    const unreachable = new HttpContactPointClient({
      baseUrl: 'http://127.0.0.1:1/',
      timeoutMs: 300,
      batchSize: 10,
      ...limits,
    });
    await expect(unreachable.lookupPersons(['01017012345'])).rejects.toThrow(ContactPointUnavailableError);
  });

  it('goes through the outbound guard: a register on a refused address, oversized answers and redirects fail', async () => {
    handler = (_, __, response) => json(response, 200, { contactPointsList: [] });
    const refusing = new HttpContactPointClient({
      baseUrl,
      timeoutMs: 2_000,
      batchSize: 10,
      maxResponseBytes: 64 * 1024,
      outbound: allowing(),
    });
    await expect(refusing.lookupPersons(['01017012345'])).rejects.toThrow(
      /POST \/profile\/api\/v1\/users\/contactpoint\/lookup failed: .*loopback address, which is refused/,
    );
    expect(requests).toHaveLength(0);

    const small = new HttpContactPointClient({
      baseUrl,
      timeoutMs: 2_000,
      batchSize: 10,
      ...limits,
      maxResponseBytes: 100,
    });
    handler = (_, __, response) =>
      json(response, 200, {
        contactPointsList: [
          { nationalIdentityNumber: '01017012345', email: `${'x'.repeat(200)}@example.com` },
        ],
      });
    await expect(small.lookupPersons(['01017012345'])).rejects.toThrow(/larger than 100 bytes/);

    const client = new HttpContactPointClient({ baseUrl, timeoutMs: 2_000, batchSize: 10, ...limits });
    handler = (_, __, response) => {
      response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    };
    await expect(client.lookupPersons(['01017012345'])).rejects.toThrow(
      /answered 307 \(redirects are not followed\)/,
    );
  });
});
