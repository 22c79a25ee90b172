import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { isTracingActive, messagingTracer } from '@notifications/messaging';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';

const UNTRACED_PATHS = /^\/(health\/|metrics$|status$)/;

interface RoutedRequest extends IncomingMessage {
  readonly route?: { readonly path?: string };
  readonly originalUrl?: string;
}

/**
 * A server span per HTTP request (a continuation of the caller's trace when it sends `traceparent`), active
 * while the request is handled: the order written by `POST /orders` remembers it, and everything downstream
 * joins it. Our own few lines instead of the http instrumentation, which would also patch every outgoing
 * call.
 */
@Injectable()
export class TracingMiddleware implements NestMiddleware {
  use(req: RoutedRequest, res: ServerResponse, next: () => void): void {
    const path = (req.originalUrl ?? req.url ?? '/').split('?', 1)[0] ?? '/';
    if (!isTracingActive() || UNTRACED_PATHS.test(path)) {
      next();
      return;
    }
    const parent = propagation.extract(context.active(), req.headers);
    const method = req.method ?? 'GET';
    const span = messagingTracer().startSpan(
      `${method} ${path}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, 'url.path': path },
      },
      parent,
    );
    res.once('finish', () => {
      const route = req.route?.path;
      if (route !== undefined) span.updateName(`${method} ${route}`);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  }
}
