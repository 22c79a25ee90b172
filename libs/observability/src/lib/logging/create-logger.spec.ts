import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from './create-logger';

/** A logger writing into an array of parsed JSON lines. */
function capture(): {
  lines: Record<string, unknown>[];
  raw: () => string;
  logger: ReturnType<typeof createLogger>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ service: 'test', level: 'debug', destination });
  const raw = (): string => chunks.join('');
  return {
    get lines() {
      return raw()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    raw,
    logger,
  };
}

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZXJ2aWNlLW93bmVyIiwic2NvcGUiOiJub3RpZmljYXRpb25zIn0.c2lnbmF0dXJlLWJ5dGVz';
const ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';
const BODY = 'Dear Ola, your tax return for 2025 shows a refund of 12 345 NOK to account 1234.56.78901.';

describe(createLogger.name, () => {
  it('writes one JSON object per line with service, level name, ISO time and message', () => {
    const out = capture();

    out.logger.info({ orderId: 'o-1' }, 'Order registered');

    expect(out.lines).toEqual([
      expect.objectContaining({
        service: 'test',
        level: 'info',
        msg: 'Order registered',
        orderId: 'o-1',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      }),
    ]);
  });

  it('never writes secrets or email bodies, whether in fields, nested objects, messages or errors', () => {
    const out = capture();

    out.logger.info(
      {
        password: 'hunter2-password',
        config: {
          acs: { connectionString: `endpoint=https://acs.example/;accesskey=${ACCESS_KEY}` },
          db: { url: 'postgres://orders:pg-secret-pw@db.internal:5432/notifications' },
          kafka: { sasl: { mechanism: 'scram-sha-512', username: 'orders', password: 'kafka-secret-pw' } },
        },
        headers: { authorization: `Bearer ${JWT}` },
        email: { notificationId: 'n-1', subject: 'Your tax return', body: BODY },
      },
      `Calling ACS with endpoint=https://acs.example/;accesskey=${ACCESS_KEY} for token ${JWT}`,
    );
    out.logger.error(
      { err: new Error(`connect failed: postgres://orders:pg-secret-pw@db.internal/notifications`) },
      'Database unreachable',
    );
    out.logger.warn(`Webhook called with /reports?accesskey=dev-delivery-report-key&x=1 by Bearer ${JWT}`);

    const raw = out.raw();
    for (const secret of [
      'hunter2-password',
      ACCESS_KEY,
      'pg-secret-pw',
      'kafka-secret-pw',
      JWT,
      'dev-delivery-report-key',
      BODY,
      'tax return for 2025',
    ]) {
      expect(raw).not.toContain(secret);
    }
    const [first, second] = out.lines;
    // What is not secret stays readable.
    expect(first).toMatchObject({
      password: '***',
      config: {
        acs: { connectionString: '***' },
        db: { url: 'postgres://orders:***@db.internal:5432/notifications' },
        kafka: { sasl: { mechanism: 'scram-sha-512', username: 'orders', password: '***' } },
      },
      headers: { authorization: '***' },
      email: { notificationId: 'n-1', subject: 'Your tax return', body: `[${BODY.length} chars]` },
    });
    expect(second).toMatchObject({
      level: 'error',
      err: { type: 'Error', message: 'connect failed: postgres://orders:***@db.internal/notifications' },
    });
  });

  it('logs a raw request and response (as pino-http passes them) as id, method, masked URL and status only', () => {
    const out = capture();
    const req = Object.assign(new IncomingMessage(new Socket()), {
      id: 'req-1',
      method: 'POST',
      url: `/reports?accesskey=${ACCESS_KEY}`,
    });
    const res = new ServerResponse(req);
    res.statusCode = 401;

    out.logger.info({ req, res }, 'request completed');

    const [line] = out.lines;
    expect(line).toMatchObject({
      req: { id: 'req-1', method: 'POST', url: '/reports?accesskey=***' },
      res: { statusCode: 401 },
    });
    expect(Object.keys(line?.['req'] as object)).toEqual(['id', 'method', 'url']);
    expect(out.raw()).not.toContain(ACCESS_KEY);
  });

  it("adds the active span's trace_id and span_id", () => {
    const provider = new TracerProvider();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    try {
      const out = capture();
      const span = trace.getTracer('test').startSpan('work');
      context.with(trace.setSpan(context.active(), span), () => out.logger.info('inside'));
      out.logger.info('outside');
      span.end();

      const [inside, outside] = out.lines;
      expect(inside).toMatchObject({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
      });
      expect(outside).not.toHaveProperty('trace_id');
    } finally {
      trace.disable();
      propagation.disable();
      context.disable();
    }
  });
});
