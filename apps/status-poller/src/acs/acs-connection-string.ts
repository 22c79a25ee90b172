export interface AcsConnection {
  /** The resource endpoint, always ending in `/`. */
  readonly endpoint: string;
  /** The base64 access key (secret). */
  readonly accessKey: string;
}

// The pattern `@azure/communication-common` parses connection strings with.
const CONNECTION_STRING = /endpoint=(.*);accesskey=(.*)/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `endpoint=https://…/;accesskey=<base64>`, or undefined when it is not one. */
export function parseAcsConnectionString(text: string): AcsConnection | undefined {
  const match = CONNECTION_STRING.exec(text.trim());
  if (!match) return undefined;
  const [, endpoint = '', accessKey = ''] = match;
  if (!URL.canParse(endpoint) || !BASE64.test(accessKey)) return undefined;
  const url = new URL(endpoint);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return { endpoint: endpoint.endsWith('/') ? endpoint : `${endpoint}/`, accessKey };
}
