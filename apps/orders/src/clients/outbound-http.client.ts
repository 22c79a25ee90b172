import { lookup as dnsLookup } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { type AddressPolicy, normaliseHost, type UrlCheck } from '../domain/address-policy';
import { OutboundGuard } from './outbound-guard';

export { type UrlCheck } from '../domain/address-policy';

/** Why an outbound request failed. `refused` is the guard's decision and never changes on a retry. */
export type OutboundFailure = 'refused' | 'unreachable' | 'timeout' | 'too-large' | 'too-many-redirects';

export class OutboundRequestError extends Error {
  override readonly name = 'OutboundRequestError';

  constructor(
    readonly failure: OutboundFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** The same request can never succeed (the destination is refused): retrying is pointless. */
  get isPermanent(): boolean {
    return this.failure === 'refused';
  }
}

export interface OutboundRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Largest response body read; beyond it the request fails with `too-large`. */
  readonly maxResponseBytes: number;
  /** The whole exchange (every redirect hop, the body included) ends within this time. */
  readonly timeoutMs: number;
  /** Redirects of a GET followed (each hop checked like the first). Default: none. */
  readonly maxRedirects?: number;
  /**
   * Reuse connections (kept alive per host and port) instead of one per request: for callers that send a stream
   * of requests to one destination (subscription deliveries). A reused connection is one the guard judged when it
   * was opened; every new one is judged again.
   */
  readonly keepAlive?: boolean;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The one way orders fetches a URL a tenant supplied (`conditionEndpoint`, and any later one) or an outbound
 * service on a tenant's behalf (the contact-point register). Only http(s), no credentials in the URL; the host
 * is resolved and every address actually connected to is checked (a custom `lookup` on node:http, so a DNS
 * answer that changes between check and connect — DNS rebinding — cannot slip past); loopback, private,
 * link-local (cloud metadata), unspecified, multicast and broadcast addresses, and IPv6 forms of them, are
 * refused unless the allow-list names them. Redirects are re-checked per hop (and never downgrade https to
 * http); body size and total time are capped. It never retries: attempts are bounded by the caller (the consumer's retry budget).
 */
export class OutboundHttpClient {
  /** The decision itself, shared with every other outbound connection (subscribers' Kafka clusters). */
  readonly guard: OutboundGuard;

  constructor(policy: AddressPolicy, resolve: typeof dnsLookup = dnsLookup) {
    this.guard = new OutboundGuard(policy, resolve);
  }

  /** What can be decided without DNS (AddressPolicy.checkUrl); hosts that need DNS are checked when fetched. */
  checkUrl(raw: string | URL): UrlCheck {
    return this.guard.checkUrl(raw);
  }

  async request(target: string | URL, request: OutboundRequest): Promise<OutboundResponse> {
    const signal = AbortSignal.timeout(request.timeoutMs);
    let url = this.checkedUrl(target);
    const maxRedirects = request.method === 'POST' ? 0 : (request.maxRedirects ?? 0);
    for (let hop = 0; ; hop += 1) {
      const response = await this.exchange(url, request, signal);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || location === undefined) return response;
      if (hop >= maxRedirects) {
        throw new OutboundRequestError(
          'too-many-redirects',
          maxRedirects === 0
            ? `answered ${response.status} (redirects are not followed)`
            : 'too many redirects',
        );
      }
      const next = this.checkedUrl(new URL(location, url));
      if (isDowngrade(url, next)) {
        throw new OutboundRequestError('refused', 'redirected from https to plain http');
      }
      url = next;
    }
  }

  private checkedUrl(target: string | URL): URL {
    const check = this.checkUrl(target);
    if (!check.ok) throw new OutboundRequestError('refused', `the URL ${check.reason}`);
    return check.url;
  }

  // Idle kept-alive connections close after 30 s; agents unref idle sockets, so they never hold the process open.
  private readonly keepAliveAgents: Readonly<Record<string, http.Agent>> = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 30_000 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 30_000 }),
  };

  private exchange(url: URL, request: OutboundRequest, signal: AbortSignal): Promise<OutboundResponse> {
    const host = normaliseHost(url.hostname);
    const transport = url.protocol === 'https:' ? https : http;
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    return new Promise<OutboundResponse>((resolve, reject) => {
      let refused: OutboundRequestError | undefined;
      const lookup = this.guard.lookupFunction((refusal) => {
        refused = new OutboundRequestError('refused', refusal.message);
      });
      const headers: Record<string, string> = { ...request.headers };
      if (body !== undefined) headers['content-length'] = String(body.length);

      let outgoing: http.ClientRequest;
      try {
        outgoing = transport.request(url, {
          method: request.method ?? 'GET',
          headers,
          signal,
          // An IP literal never reaches `lookup` (net connects to it directly): checkedUrl has judged it.
          ...(isIP(host) === 0 ? { lookup } : {}),
          // A kept-alive agent creates new sockets with this request's options, so with its guarded `lookup`.
          agent: request.keepAlive === true ? (this.keepAliveAgents[url.protocol] ?? false) : false,
        });
      } catch (error) {
        reject(new OutboundRequestError('unreachable', describe(error), { cause: error }));
        return;
      }
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        outgoing.destroy();
        if (error instanceof OutboundRequestError) return reject(error);
        if (refused !== undefined) return reject(refused);
        if (signal.aborted) {
          return reject(
            new OutboundRequestError('timeout', `no complete answer within ${request.timeoutMs} ms`),
          );
        }
        reject(new OutboundRequestError('unreachable', describe(error), { cause: error }));
      };
      outgoing.on('error', fail);
      outgoing.on('response', (incoming: IncomingMessage) => {
        const declared = Number(incoming.headers['content-length']);
        if (Number.isFinite(declared) && declared > request.maxResponseBytes) {
          return fail(tooLarge(request.maxResponseBytes));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // Stop reading at once: the rest of an oversized answer is never buffered.
          if (size > request.maxResponseBytes) fail(tooLarge(request.maxResponseBytes));
          else chunks.push(chunk);
        });
        incoming.on('error', fail);
        incoming.on('aborted', () => fail(new Error('the answer was cut off')));
        incoming.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
            url,
          });
        });
      });
      outgoing.end(body);
    });
  }
}

/** A redirect from https to http would send the rest of the exchange in the clear. */
export function isDowngrade(from: URL, to: URL): boolean {
  return from.protocol === 'https:' && to.protocol === 'http:';
}

const tooLarge = (maxBytes: number) =>
  new OutboundRequestError('too-large', `the answer is larger than ${maxBytes} bytes`);

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? error.message : `${code}: ${error.message}`;
}
