import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * An example receiver of status subscriptions' HTTP deliveries (README "Subscriptions"), used by
 * `npm run demo -- --subscribe`: what a service owner's endpoint has to do.
 *
 * 1. Verify the signature before trusting the body: `x-notifications-signature` is `v1=` + the hex
 *    HMAC-SHA256, keyed with the subscription's secret (returned once, by the POST that created it), of
 *    `<x-notifications-timestamp>.<raw body>`. Compare in constant time, and refuse old timestamps (a replay).
 * 2. De-duplicate on `eventId`: delivery is at least once, so an event can arrive again after a failed answer.
 * 3. Answer 2xx quickly: anything else (or no answer within the delivery timeout) is retried with back-off, and
 *    after SUBSCRIPTIONS_MAX_CONSECUTIVE_FAILURES failures in a row the subscription is marked `failed`.
 */
export class SubscriptionReceiver {
  private readonly seen = new Set<string>();
  private server: http.Server | undefined;

  /**
   * @param onEvent called once per new event (a repeated eventId is acknowledged and skipped)
   * @param maxAgeSeconds signatures older than this are refused (replay protection)
   */
  constructor(
    private readonly secret: () => string | undefined,
    private readonly onEvent: (event: Record<string, unknown>) => void,
    private readonly maxAgeSeconds = 300,
  ) {}

  /** Listens on loopback; returns the URL to subscribe with. */
  async start(): Promise<string> {
    const server = http.createServer((request, response) => {
      readBody(request).then(
        (body) => response.writeHead(this.receive(request, body)).end(),
        () => response.writeHead(400).end(),
      );
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications/events`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The HTTP status to answer. */
  private receive(request: IncomingMessage, body: string): number {
    const secret = this.secret();
    const timestamp = headerOf(request, 'x-notifications-timestamp');
    const signature = headerOf(request, 'x-notifications-signature');
    if (secret === undefined || timestamp === undefined || signature === undefined) return 401;
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > this.maxAgeSeconds) return 401;
    if (!signatureMatches(secret, timestamp, body, signature)) return 401;
    const parsed = JSON.parse(body) as unknown;
    // One event per request by default; an array when the subscription set maxEventsPerRequest above 1.
    for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
      const id = (event as { eventId?: unknown }).eventId;
      if (typeof id === 'string' && this.seen.has(id)) continue;
      if (typeof id === 'string') this.seen.add(id);
      this.onEvent(event as Record<string, unknown>);
    }
    return 204;
  }
}

export function signatureMatches(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
): boolean {
  const expected = Buffer.from(
    `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
