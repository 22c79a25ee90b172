import { createHash, createHmac } from 'node:crypto';

export interface SignedHeaders {
  readonly 'x-ms-date': string;
  readonly 'x-ms-content-sha256': string;
  readonly host: string;
  readonly authorization: string;
}

// base64(sha256('')): the content hash of every bodiless request (each status GET), computed once.
const EMPTY_BODY_SHA256 = createHash('sha256').digest('base64');

/**
 * The HMAC-SHA256 request signature of ACS, exactly as `@azure/communication-common`'s
 * `communicationAccessKeyCredentialPolicy` computes it (see shared/reference/acs-email.md E.1):
 * `VERB \n path?query \n date;host;base64(sha256(body))`, keyed with the base64-decoded access key (pass the
 * decoded key when signing many requests: decoding it is part of the per-request cost otherwise).
 */
export function signAcsRequest(
  accessKey: string | Buffer,
  method: string,
  url: URL,
  body = '',
  now: Date = new Date(),
): SignedHeaders {
  const date = now.toUTCString();
  const contentHash =
    body === '' ? EMPTY_BODY_SHA256 : createHash('sha256').update(body, 'utf8').digest('base64');
  const query = url.searchParams.toString();
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname;
  const stringToSign = `${method.toUpperCase()}\n${pathAndQuery}\n${date};${url.host};${contentHash}`;
  const key = typeof accessKey === 'string' ? Buffer.from(accessKey, 'base64') : accessKey;
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64');
  return {
    'x-ms-date': date,
    'x-ms-content-sha256': contentHash,
    host: url.host,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}
