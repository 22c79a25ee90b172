import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { type AddressPolicy, normaliseHost, refusedText, type UrlCheck } from '../domain/address-policy';

/** Set on every refusal so that it can be recognised after a library (kafkajs) copied only message and code. */
export const OUTBOUND_REFUSED_CODE = 'E_OUTBOUND_REFUSED';

/** The guard refused a destination: it can never succeed by retrying, only by changing the allow-list. */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
  readonly code = OUTBOUND_REFUSED_CODE;
}

/**
 * The one decision of where orders may connect on a tenant's behalf (HTTP requests and subscribers' Kafka
 * clusters alike): an AddressPolicy applied to what a host resolves to at the moment of connecting. Sockets use
 * {@link lookupFunction} as their `lookup`, so the addresses checked are the ones connected to (a DNS answer that
 * changes between a check and the connect — DNS rebinding — cannot slip past); IP literals never reach a `lookup`
 * (net connects to them directly), so callers check them with {@link refusalOfAddress} first.
 */
export class OutboundGuard {
  constructor(
    private readonly policy: AddressPolicy,
    private readonly resolve: typeof dnsLookup = dnsLookup,
  ) {}

  /** What can be decided about a URL without DNS (AddressPolicy.checkUrl). */
  checkUrl(raw: string | URL): UrlCheck {
    return this.policy.checkUrl(raw);
  }

  /** What can be decided about a host without DNS: why it is refused, or `undefined` (DNS decides later). */
  refusalOfHost(host: string): string | undefined {
    return this.policy.refusalOfHost(host);
  }

  /** Why a connection to an IP literal is refused, or `undefined` when it may go ahead. */
  refusalOfAddress(address: string): OutboundRefusedError | undefined {
    if (this.policy.allowsHost(address)) return undefined;
    const range = this.policy.refusal(address);
    return range === undefined ? undefined : new OutboundRefusedError(`${address} is ${refusedText(range)}`);
  }

  /**
   * The addresses of `host` a connection may go to: all of them when the host is allowed by name, else those
   * outside the refused ranges. Rejects with {@link OutboundRefusedError} when none is left, and with the
   * resolver's error when the name does not resolve.
   */
  guardedLookup(host: string, options: LookupOptions = {}): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) => {
      this.resolve(host, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return reject(error);
        const permitted = this.policy.allowsHost(normaliseHost(host))
          ? addresses
          : addresses.filter(({ address }) => this.policy.refusal(address) === undefined);
        if (permitted.length > 0) return resolve(permitted);
        const range = addresses[0] === undefined ? undefined : this.policy.refusal(addresses[0].address);
        reject(
          new OutboundRefusedError(
            range === undefined ? `${host} has no address` : `${host} resolves to ${refusedText(range)}`,
          ),
        );
      });
    });
  }

  /**
   * A `lookup` for net/tls/http sockets that answers only with permitted addresses ({@link guardedLookup}).
   * `onRefused` sees a refusal before the socket turns it into its error (callers that wrap socket errors keep
   * the reason).
   */
  lookupFunction(onRefused?: (refusal: OutboundRefusedError) => void): LookupFunction {
    return (hostname, options, callback) => {
      this.guardedLookup(hostname, options).then(
        (permitted) => {
          // net asks for every address when it races IPv4 and IPv6 (autoSelectFamily), else for one.
          if (options.all === true) return callback(null, permitted);
          const [first] = permitted;
          return callback(null, first?.address ?? '', first?.family ?? 4);
        },
        (error: unknown) => {
          if (error instanceof OutboundRefusedError) onRefused?.(error);
          callback(error as NodeJS.ErrnoException, '', 0);
        },
      );
    };
  }

  /** True for a host that net connects to without a `lookup` (an IP literal). */
  static isAddress(host: string): boolean {
    return isIP(normaliseHost(host)) !== 0;
  }
}
