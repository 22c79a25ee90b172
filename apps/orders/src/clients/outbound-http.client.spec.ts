import { type lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../domain/address-policy';
import { isDowngrade, OutboundHttpClient, OutboundRequestError } from './outbound-http.client';

const policy = (...entries: string[]) =>
  new AddressPolicy(entries.map((entry) => parseAllowEntry(entry) as AllowEntry));

/** A resolver with fixed answers (DNS is the one thing a unit test cannot own); other names fail. */
function resolverOf(answers: Record<string, readonly string[]>): typeof dnsLookup {
  const resolve = (
    hostname: string,
    _options: unknown,
    callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => {
    const addresses = answers[hostname];
    if (addresses === undefined) {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      error.code = 'ENOTFOUND';
      process.nextTick(() => callback(error, []));
      return;
    }
    process.nextTick(() =>
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      ),
    );
  };
  return resolve as unknown as typeof dnsLookup;
}

const limits = { maxResponseBytes: 4096, timeoutMs: 2_000 };

async function failureOf(promise: Promise<unknown>): Promise<OutboundRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OutboundRequestError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe(OutboundHttpClient.name, () => {
  let server: Server;
  let port: number;
  let base: string;
  let hits: string[];
  let handler: (request: IncomingMessage, response: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    hits = [];
    handler = (_, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('{"sendCondition":true}');
    };
  });

  it('fetches an allowed address and returns status, headers and body', async () => {
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    const response = await client.request(`${base}/condition`, limits);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('{"sendCondition":true}');
    expect(hits).toEqual(['/condition']);
  });

  it('with keepAlive reuses one connection for a stream of requests; without, opens one per request', async () => {
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    const connections = (): Promise<number> =>
      new Promise((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    const post = { ...limits, method: 'POST' as const, body: '{}' };
    server.closeAllConnections();
    const sockets = new Set<unknown>();
    handler = (request, response) => {
      sockets.add(request.socket);
      response.end();
    };
    for (let index = 0; index < 3; index += 1)
      await client.request(`${base}/kept`, { ...post, keepAlive: true });
    expect(sockets.size).toBe(1);
    expect(await connections()).toBe(1);
    sockets.clear();
    for (let index = 0; index < 3; index += 1) await client.request(`${base}/each`, post);
    expect(sockets.size).toBe(3);
  });

  it('with keepAlive still judges every new connection: a name resolving to a refused address is refused', async () => {
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const client = new OutboundHttpClient(policy(), resolve);
    const refused = await failureOf(
      client.request(`http://hooks.example:${port}/k`, { ...limits, keepAlive: true }),
    );
    expect(refused.failure).toBe('refused');
    expect(hits).toEqual([]);
  });

  it('refuses a loopback IP literal unless allow-listed, before connecting', async () => {
    const client = new OutboundHttpClient(policy());
    const error = await failureOf(client.request(`${base}/admin/rules`, limits));
    expect(error.failure).toBe('refused');
    expect(error.isPermanent).toBe(true);
    expect(error.message).toMatch(/loopback address, which is refused/);
    expect(hits).toEqual([]);
  });

  it('checks the address a host name resolves to at connect time, and allows a host named on the list', async () => {
    const resolve = resolverOf({
      'conditions.example': ['127.0.0.1'],
      'mixed.example': ['10.0.0.1', '127.0.0.1'],
    });
    const refusing = new OutboundHttpClient(policy(), resolve);
    const refused = await failureOf(refusing.request(`http://conditions.example:${port}/c`, limits));
    expect(refused.failure).toBe('refused');
    expect(refused.message).toMatch(/conditions\.example resolves to a loopback address/);
    const mixed = await failureOf(refusing.request(`http://mixed.example:${port}/c`, limits));
    expect(mixed.message).toMatch(/mixed\.example resolves to a private address/);
    expect(hits).toEqual([]);

    const byName = new OutboundHttpClient(policy('conditions.example'), resolve);
    expect((await byName.request(`http://conditions.example:${port}/c`, limits)).status).toBe(200);
    const byRange = new OutboundHttpClient(policy('127.0.0.1'), resolve);
    // Only the allowed address of the two is connected to.
    expect((await byRange.request(`http://mixed.example:${port}/c`, limits)).status).toBe(200);
    expect(hits).toEqual(['/c', '/c']);
  });

  it('refuses other schemes and credentials in the URL', async () => {
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    expect((await failureOf(client.request('ftp://127.0.0.1/x', limits))).message).toMatch(/http or https/);
    expect((await failureOf(client.request(`http://u:p@127.0.0.1:${port}/x`, limits))).message).toMatch(
      /credentials/,
    );
    expect(hits).toEqual([]);
  });

  it('follows redirects a bounded number of times, checking every hop', async () => {
    handler = (request, response) => {
      const url = request.url ?? '';
      if (url === '/to-metadata')
        return void response.writeHead(302, { location: 'http://169.254.169.254/latest/' }).end();
      if (url === '/to-mapped')
        return void response.writeHead(307, { location: 'http://[::ffff:10.0.0.1]/' }).end();
      if (url.startsWith('/hop/')) {
        const left = Number(url.slice(5));
        if (left > 0) return void response.writeHead(302, { location: `/hop/${left - 1}` }).end();
      }
      response.end('{"sendCondition":false}');
    };
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    const toMetadata = await failureOf(client.request(`${base}/to-metadata`, { ...limits, maxRedirects: 3 }));
    expect(toMetadata.failure).toBe('refused');
    expect(toMetadata.message).toMatch(/link-local address/);
    const toMapped = await failureOf(client.request(`${base}/to-mapped`, { ...limits, maxRedirects: 3 }));
    expect(toMapped.message).toMatch(/private address/);

    const followed = await client.request(`${base}/hop/3`, { ...limits, maxRedirects: 3 });
    expect(followed.body.toString()).toBe('{"sendCondition":false}');
    expect(followed.url.pathname).toBe('/hop/0');
    const tooMany = await failureOf(client.request(`${base}/hop/4`, { ...limits, maxRedirects: 3 }));
    expect(tooMany.failure).toBe('too-many-redirects');
    const notFollowed = await failureOf(client.request(`${base}/hop/1`, limits));
    expect(notFollowed.message).toMatch(/answered 302 \(redirects are not followed\)/);
  });

  it('caps the answer: a declared or a streamed body beyond the limit fails', async () => {
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    handler = (_, response) => response.end('x'.repeat(5000));
    const declared = await failureOf(client.request(`${base}/big`, limits));
    expect(declared.failure).toBe('too-large');
    expect(declared.isPermanent).toBe(false);

    // Chunked, no length: the reader stops as soon as the cap is passed, however long the server goes on.
    let written = 0;
    handler = (_, response) => {
      const pump = () => {
        while (written < 10_000_000) {
          written += 1024;
          if (!response.write('y'.repeat(1024))) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    };
    const streamed = await failureOf(client.request(`${base}/stream`, limits));
    expect(streamed.failure).toBe('too-large');
    expect(streamed.message).toBe('the answer is larger than 4096 bytes');
    expect(written).toBeLessThan(10_000_000);
  });

  it('ends the whole exchange at the time limit, also when the body trickles', async () => {
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    handler = () => undefined; // never answers
    const started = Date.now();
    const silent = await failureOf(client.request(`${base}/silent`, { ...limits, timeoutMs: 300 }));
    expect(silent.failure).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);

    handler = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"sendCondition":');
      // ...and never finishes.
    };
    const trickle = await failureOf(client.request(`${base}/trickle`, { ...limits, timeoutMs: 300 }));
    expect(trickle.failure).toBe('timeout');
  });

  it('reports an unreachable destination as a transient failure', async () => {
    const client = new OutboundHttpClient(policy('127.0.0.0/8'), resolverOf({}));
    const closed = await failureOf(client.request('http://127.0.0.1:1/x', limits));
    expect(closed.failure).toBe('unreachable');
    expect(closed.isPermanent).toBe(false);
    const unknown = await failureOf(client.request('http://no-such-host.example/x', limits));
    expect(unknown.failure).toBe('unreachable');
    expect(unknown.message).toMatch(/ENOTFOUND/);
  });

  it('sends a POST body and never follows a redirect of a POST', async () => {
    let received = '';
    handler = (request, response) => {
      request.on('data', (chunk: Buffer) => (received += chunk.toString()));
      request.on('end', () => {
        if (request.url === '/moved') return void response.writeHead(308, { location: '/lookup' }).end();
        response.end('{}');
      });
    };
    const client = new OutboundHttpClient(policy('127.0.0.0/8'));
    const post = { ...limits, method: 'POST' as const, body: '{"a":1}', maxRedirects: 3 };
    expect((await client.request(`${base}/lookup`, post)).status).toBe(200);
    expect(received).toBe('{"a":1}');
    expect((await failureOf(client.request(`${base}/moved`, post))).failure).toBe('too-many-redirects');
  });
});

describe(isDowngrade.name, () => {
  it('is a redirect from https to http only', () => {
    const https = new URL('https://conditions.example/a');
    expect(isDowngrade(https, new URL('http://conditions.example/b'))).toBe(true);
    expect(isDowngrade(https, new URL('https://other.example/b'))).toBe(false);
    expect(isDowngrade(new URL('http://conditions.example/a'), https)).toBe(false);
  });
});
