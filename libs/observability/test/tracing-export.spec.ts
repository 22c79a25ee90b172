import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { propagation } from '@opentelemetry/api';
import { startTracing } from '../src';

interface OtlpBody {
  readonly resourceSpans: {
    readonly resource: { readonly attributes: readonly { key: string; value: { stringValue?: string } }[] };
    readonly scopeSpans: {
      readonly spans: { traceId: string; spanId: string; name: string; kind: number }[];
    }[];
  }[];
}

describe(startTracing.name, () => {
  let server: Server;
  const requests: { path: string; contentType: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('installs nothing when tracing is off', async () => {
    const tracing = startTracing({ service: 'orders', enabled: false });

    expect(tracing.enabled).toBe(false);
    expect(propagation.fields()).toEqual([]);
    await tracing.shutdown();
  });

  it('exports spans as OTLP/HTTP JSON to <endpoint>/v1/traces, with the service name, by the end of shutdown', async () => {
    const { port } = server.address() as AddressInfo;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--conditions=@notifications/source',
        '-r',
        '@swc-node/register',
        join(__dirname, 'fixtures', 'export-span.ts'),
        `http://127.0.0.1:${port}`,
      ],
      { env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '..', 'tsconfig.spec.json') } },
    );
    const exported = JSON.parse(stdout) as { traceId: string; spanId: string };

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request).toMatchObject({ path: '/v1/traces', contentType: 'application/json' });
    const [resourceSpans] = (JSON.parse(request!.body) as OtlpBody).resourceSpans;
    expect(resourceSpans?.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'orders' },
    });
    expect(resourceSpans?.scopeSpans[0]?.spans).toEqual([
      expect.objectContaining({
        name: 'process orders.pastdue',
        kind: 5,
        traceId: exported.traceId,
        spanId: exported.spanId,
      }),
    ]);
  });
});
