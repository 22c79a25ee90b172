import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export interface SignedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export interface SignOptions {
  /** Base64 access key; the emulator's default when omitted. */
  readonly accessKey: string;
  readonly date?: Date;
  /** Override the x-ms-content-sha256 header (to test a tampered body). */
  readonly contentHash?: string;
  readonly headers?: Record<string, string>;
}

/** The ACS HMAC-SHA256 headers for a request, computed the way @azure/communication-common does. */
export function signRequest(
  method: string,
  url: URL,
  body: string,
  options: SignOptions,
): Record<string, string> {
  const date = (options.date ?? new Date()).toUTCString();
  const contentHash = createHash('sha256').update(body).digest('base64');
  const query = url.searchParams.toString();
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname;
  const stringToSign = `${method}\n${pathAndQuery}\n${date};${url.host};${contentHash}`;
  const signature = createHmac('sha256', Buffer.from(options.accessKey, 'base64'))
    .update(stringToSign)
    .digest('base64');
  return {
    host: url.host,
    'x-ms-date': date,
    'x-ms-content-sha256': options.contentHash ?? contentHash,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

/**
 * A signed request over a fresh connection (no retries, unlike the SDK). Rejects when the server drops the
 * connection without answering.
 */
export function signedRequest(
  method: 'GET' | 'POST',
  url: URL,
  body: unknown,
  options: SignOptions,
): Promise<SignedResponse> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers = {
    ...(text ? { 'content-type': 'application/json' } : {}),
    ...signRequest(method, url, text, options),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(
            Object.entries(res.headers).map(([name, value]) => [
              name,
              Array.isArray(value) ? value.join(', ') : (value ?? ''),
            ]),
          ),
          body: raw ? (JSON.parse(raw) as unknown) : undefined,
        });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}
