import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/** The default event payload of a status subscription (apps/orders README "Subscriptions"). */
export interface SubscriptionEvent {
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly type: 'notification.status' | 'order.completed';
  readonly orderId: string;
  readonly sendersReference: string | null;
  readonly notificationId: string | null;
  readonly channel: 'Email';
  readonly recipient: { readonly emailAddress: string | null } | null;
  readonly status: string;
  readonly description: string;
  readonly lastUpdate: string;
}

/** One POST as it arrived: its events (one, or an array's), and whether its signature verified. */
export interface ReceivedDelivery {
  readonly events: readonly unknown[];
  readonly eventIdHeader: string | undefined;
  readonly signatureValid: boolean;
  readonly receivedAt: number;
}

/**
 * A subscriber's HTTP endpoint, as a receiver would write one: verifies each POST's signature
 * (`x-notifications-signature: v1=<hex HMAC-SHA256(secret, "<x-notifications-timestamp>.<body>")>`) with the
 * secret the subscription's creation returned, records the events, and can be taken "down" (answers 503) to
 * test redelivery. Listens on 127.0.0.1 (development and test allow loopback destinations).
 */
export class SubscriptionReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private server: http.Server | undefined;
  private secret: string | undefined;
  private down = false;
  private requestCount = 0;

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('receiver not started');
    return `http://127.0.0.1:${address.port}/hooks/notify`;
  }

  /** Every POST answered so far, 503s included. */
  get requests(): number {
    return this.requestCount;
  }

  async start(): Promise<this> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** The subscription's signing secret, from the answer to its creation. */
  useSecret(secret: string): void {
    this.secret = secret;
  }

  /** Answers 503 to every delivery until `setDown(false)`. */
  setDown(down: boolean): void {
    this.down = down;
  }

  /** Every event received with a valid signature, in arrival order (redeliveries included). */
  events<T = SubscriptionEvent>(): T[] {
    return this.deliveries.filter((delivery) => delivery.signatureValid).flatMap((d) => d.events as T[]);
  }

  /** Received events, one per eventId (a redelivery repeats an id; a receiver de-duplicates on it). */
  uniqueEvents(): SubscriptionEvent[] {
    const seen = new Set<string>();
    return this.events().filter((event) => {
      if (seen.has(event.eventId)) return false;
      seen.add(event.eventId);
      return true;
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    this.requestCount += 1;
    if (this.down) {
      response.writeHead(503).end();
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const timestamp = header(request, 'x-notifications-timestamp');
    const signature = header(request, 'x-notifications-signature');
    const signatureValid =
      this.secret !== undefined &&
      timestamp !== undefined &&
      signature !== undefined &&
      verify(this.secret, timestamp, body, signature);
    const parsed = JSON.parse(body) as unknown;
    this.deliveries.push({
      events: Array.isArray(parsed) ? parsed : [parsed],
      eventIdHeader: header(request, 'x-notifications-event-id'),
      signatureValid,
      receivedAt: Date.now(),
    });
    response.writeHead(signatureValid ? 204 : 401).end();
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What a receiver does with the secret: recompute and compare in constant time. */
export function verify(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(
    `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
