import { Injectable, Inject } from '@nestjs/common';
import { type OrdersConfig } from '../config/orders.config';
import { ORDERS_CONFIG } from '../config/tokens';
import {
  OrderProgressService,
  ProgressStreamLimitError,
  type ProgressEvent,
  type ProgressWatcher,
} from '../progress/order-progress.service';
import { type HttpRequest, type HttpResponse } from './http-types';
import { problem, ProblemException } from './problem-details';

/** The parts of Node's request and response a Server-Sent Events stream needs (see http-types.ts). */
export interface StreamingRequest extends HttpRequest {
  readonly socket: { readonly destroyed: boolean } | null;
}

export interface StreamingResponse extends HttpResponse {
  readonly writableNeedDrain: boolean;
  readonly writableEnded: boolean;
  write(chunk: string): boolean;
  end(): void;
  flushHeaders(): void;
  on(event: 'close', listener: () => void): unknown;
}

// A reconnecting client may be told to come back a little later than `retry:` when the server is full.
const RETRY_AFTER_FULL_SECONDS = 5;
const LAST_EVENT_ID = /^\d{1,16}$/;

/** Whether the client asked for the event stream (`Accept: text/event-stream`) rather than one JSON snapshot. */
export function wantsEventStream(request: HttpRequest): boolean {
  return /\btext\/event-stream\b/i.test(request.get('accept') ?? '');
}

/**
 * `GET …/progress` for the public API (the creator's orders) and the operators' route (any order): one JSON
 * snapshot, or with `Accept: text/event-stream` the snapshots as they change as Server-Sent Events (WHATWG HTML
 * §9.2): `retry:` first, then `id:` + `data:` per snapshot, `: keep-alive` comments between them, and the end of
 * the response after the final snapshot. A reconnect's `Last-Event-ID` skips what the client already has.
 */
@Injectable()
export class ProgressResponder {
  constructor(
    private readonly progress: OrderProgressService,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  /** Answers the request; false when there is no such order (of the watcher's creator) and nothing was sent. */
  async respond(
    request: StreamingRequest,
    response: StreamingResponse,
    orderId: string,
    watcher: ProgressWatcher,
  ): Promise<boolean> {
    if (!wantsEventStream(request)) {
      const snapshot = await this.progress.snapshot(orderId, watcher.creator);
      if (snapshot === undefined) return false;
      response.status(200).setHeader('Cache-Control', 'no-store');
      response.json(snapshot);
      return true;
    }
    return this.stream(request, response, orderId, watcher);
  }

  private async stream(
    request: StreamingRequest,
    response: StreamingResponse,
    orderId: string,
    watcher: ProgressWatcher,
  ): Promise<boolean> {
    const settings = this.config.progress;
    let heartbeat: NodeJS.Timeout | undefined;
    let lifetime: NodeJS.Timeout | undefined;
    let closed = false;
    let started = false;
    const finish = () => {
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      if (!response.writableEnded) response.end();
    };
    const start = () => {
      if (started) return;
      started = true;
      response.status(200);
      response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      // Neither caches nor proxies may hold events back (X-Accel-Buffering: nginx's response buffering).
      response.setHeader('Cache-Control', 'no-store, no-transform');
      response.setHeader('X-Accel-Buffering', 'no');
      response.flushHeaders();
      response.write(`retry: ${settings.retryMs}\n\n`);
    };
    let stream;
    try {
      stream = await this.progress.open(orderId, watcher, lastEventIdOf(request), {
        event: (event: ProgressEvent, isLast: boolean) => {
          if (closed) return false;
          start();
          // A slow reader gets the next snapshot instead of a queue of stale ones; the last is always written.
          if (response.writableNeedDrain && !isLast) return false;
          response.write(`id: ${event.version}\ndata: ${JSON.stringify(event.snapshot)}\n\n`);
          return true;
        },
        end: () => {
          start();
          finish();
        },
      });
    } catch (error) {
      if (error instanceof ProgressStreamLimitError) {
        const status = error.scope === 'process' ? 503 : 429;
        throw new ProblemException(problem(status, error.message), {
          'Retry-After': String(RETRY_AFTER_FULL_SECONDS),
        });
      }
      throw error;
    }
    if (stream === undefined) return false;
    // Headers go out now even when the client already has the latest snapshot (nothing to send yet).
    start();
    const close = () => {
      if (closed) return;
      closed = true;
      stream.close();
      finish();
    };
    // The response's close: it ended, or the client went away (the request's own close fires once it is read).
    response.on('close', close);
    if (!response.writableEnded && request.socket?.destroyed !== true) {
      heartbeat = setInterval(() => response.write(': keep-alive\n\n'), settings.heartbeatMs);
      // The token was checked once, at the start: a stream does not outlive this (the client reconnects).
      lifetime = setTimeout(close, settings.maxStreamDurationMs);
    } else close();
    return true;
  }
}

function lastEventIdOf(request: HttpRequest): number | undefined {
  const value = request.get('last-event-id')?.trim();
  return value !== undefined && LAST_EVENT_ID.test(value) ? Number(value) : undefined;
}
