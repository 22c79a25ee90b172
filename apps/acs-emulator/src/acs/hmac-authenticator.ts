import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../common/clock';

export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as received on the request line. */
  readonly pathAndQuery: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type AuthResult =
  /** `contentSha256`: base64(sha256(body)), checked against the signed x-ms-content-sha256. */
  { readonly ok: true; readonly contentSha256: string } | { readonly ok: false; readonly reason: string };

const AUTHORIZATION = /^HMAC-SHA256\s+SignedHeaders=([^&\s]+)&Signature=(\S+)$/i;

/**
 * Verifies ACS HMAC-SHA256 request signing (the scheme of @azure/communication-common's
 * communicationAccessKeyCredentialPolicy):
 *
 *   contentHash  = base64(sha256(body))                          sent as x-ms-content-sha256
 *   stringToSign = VERB \n pathAndQuery \n <values of SignedHeaders joined by ";">
 *   Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=base64(hmac(key, ...))
 *
 * with key = the base64-decoded access key. Like ACS, requests dated more than `maxSkewMs` away are refused.
 */
export class HmacAuthenticator {
  /**
   * A KeyObject, not the key's bytes: on Node 24 (this repository's runtime) `createHmac` with a Buffer key first tries (and fails, by
   * catching two thrown errors) to read it as a KeyObject and a CryptoKey, which cost ~45 µs per request — more
   * than everything else a poll does. With a KeyObject it takes ~5 µs.
   */
  private readonly key: KeyObject;

  constructor(
    accessKey: string,
    private readonly maxSkewMs: number,
    private readonly clock: Clock,
  ) {
    this.key = createSecretKey(Buffer.from(accessKey, 'base64'));
  }

  verify(request: SignedRequest): AuthResult {
    const authorization = header(request.headers, 'authorization');
    if (authorization === undefined) return deny('the Authorization header is missing');
    const parsed = AUTHORIZATION.exec(authorization.trim());
    if (!parsed) return deny('the Authorization header is not "HMAC-SHA256 SignedHeaders=…&Signature=…"');
    const signedHeaders = (parsed[1] ?? '').toLowerCase().split(';');
    const signature = parsed[2] ?? '';

    for (const required of ['host', 'x-ms-content-sha256'])
      if (!signedHeaders.includes(required)) return deny(`SignedHeaders must include ${required}`);
    const dateHeader = signedHeaders.includes('x-ms-date') ? 'x-ms-date' : 'date';
    if (!signedHeaders.includes(dateHeader)) return deny('SignedHeaders must include x-ms-date');

    const date = header(request.headers, dateHeader);
    const dateMs = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isNaN(dateMs)) return deny(`the ${dateHeader} header is missing or not a date`);
    if (Math.abs(this.clock.now() - dateMs) > this.maxSkewMs)
      return deny(`the request date ${date} is more than ${Math.round(this.maxSkewMs / 1000)} s off`);

    // The one-shot form: ~2 µs cheaper per request than createHash().update().digest() (node 24, 1.3 KB body).
    const contentHash = hash('sha256', request.body, 'base64');
    if (header(request.headers, 'x-ms-content-sha256') !== contentHash)
      return deny('x-ms-content-sha256 does not match the request body');

    const values: string[] = [];
    for (const name of signedHeaders) {
      const value = header(request.headers, name);
      if (value === undefined) return deny(`the signed header ${name} is missing`);
      values.push(value);
    }
    const expected = Buffer.from(signature, 'base64');
    const signs = (pathAndQuery: string): boolean => {
      const stringToSign = `${request.method.toUpperCase()}\n${pathAndQuery}\n${values.join(';')}`;
      const actual = createHmac('sha256', this.key).update(stringToSign, 'utf8').digest();
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    };
    // The raw target first: it is what every SDK request signs, so the URL parse of the second form is only paid
    // by requests that fail the first check.
    if (signs(request.pathAndQuery)) return { ok: true, contentSha256: contentHash };
    const sdkForm = sdkPathAndQuery(request.pathAndQuery);
    if (sdkForm !== request.pathAndQuery && signs(sdkForm)) return { ok: true, contentSha256: contentHash };
    return deny('the signature does not match (wrong access key?)');
  }
}

function deny(reason: string): AuthResult {
  return { ok: false, reason };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The form the Azure SDK signs (`pathname + "?" + URLSearchParams.toString()`), which re-encodes the query; it is
 * the same as the raw request target for every request the SDK makes today.
 */
function sdkPathAndQuery(raw: string): string {
  // Concatenated, not resolved: a target like `//emails:send` must stay a path, not become a host.
  const url = new URL(`http://emulator.invalid${raw.startsWith('/') ? '' : '/'}${raw}`);
  const query = url.searchParams.toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}
