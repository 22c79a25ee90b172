export interface ParsedConnectionString {
  readonly endpoint: string;
  /** The key as written (base64); HMAC signing uses its decoded bytes. */
  readonly accessKey: string;
}

// The same expression as @azure/communication-common's parseConnectionString, so both sides agree on what a
// connection string means.
const CONNECTION_STRING = /endpoint=(.*);accesskey=(.*)/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `endpoint=<url>;accesskey=<base64>` → its parts, or `undefined` when malformed or the key is not base64. */
export function parseConnectionString(text: string): ParsedConnectionString | undefined {
  const match = CONNECTION_STRING.exec(text.trim());
  const endpoint = match?.[1]?.trim();
  const accessKey = match?.[2]?.trim();
  if (!endpoint || !accessKey || !BASE64.test(accessKey) || accessKey.length % 4 !== 0) return undefined;
  if (!URL.canParse(endpoint)) return undefined;
  return { endpoint, accessKey };
}
