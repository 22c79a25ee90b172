import { createHash, createHmac } from 'node:crypto';

export interface SignedHeaders {
  readonly 'x-ms-date': string;
  readonly 'x-ms-content-sha256': string;
  readonly host: string;
  readonly authorization: string;
}

/**
 * The HMAC-SHA256 request signature of ACS, exactly as `@azure/communication-common`'s
 * `communicationAccessKeyCredentialPolicy` computes it (see shared/reference/acs-email.md E.1):
 * `VERB \n path?query \n date;host;base64(sha256(body))`, keyed with the base64-decoded access key.
 */
export function signAcsRequest(
  accessKey: string,
  method: string,
  url: URL,
  body = '',
  now: Date = new Date(),
): SignedHeaders {
  const date = now.toUTCString();
  const contentHash = createHash('sha256').update(body, 'utf8').digest('base64');
  const query = url.searchParams.toString();
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname;
  const stringToSign = `${method.toUpperCase()}\n${pathAndQuery}\n${date};${url.host};${contentHash}`;
  const signature = createHmac('sha256', Buffer.from(accessKey, 'base64'))
    .update(stringToSign, 'utf8')
    .digest('base64');
  return {
    'x-ms-date': date,
    'x-ms-content-sha256': contentHash,
    host: url.host,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}
