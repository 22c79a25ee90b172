/** The parts of an ACS connection string (`endpoint=https://….communication.azure.com/;accesskey=<base64>`). */
export interface AcsConnection {
  /** The whole string, as the SDK takes it. Secret: it holds the access key. */
  readonly connectionString: string;
  /** The resource endpoint (no secret; safe to log). */
  readonly endpoint: string;
  /** Plain HTTP is only ever a local emulator; the SDK refuses it unless told otherwise. */
  readonly insecure: boolean;
}

// The SDK's own pattern (@azure/communication-common parseConnectionString).
const CONNECTION_STRING = /endpoint=(.*);accesskey=(.*)/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses and checks a connection string the way the SDK will read it, so that a typo fails at start-up and not
 * on the first email. Error messages never contain the access key.
 */
export function parseAcsConnectionString(
  connectionString: string,
): { ok: true; value: AcsConnection } | { ok: false; expected: string } {
  const expected = 'endpoint=<http(s) URL>;accesskey=<base64 key>';
  const match = CONNECTION_STRING.exec(connectionString.trim());
  const endpoint = match?.[1]?.trim();
  const accessKey = match?.[2]?.trim();
  if (endpoint === undefined || accessKey === undefined || !URL.canParse(endpoint))
    return { ok: false, expected };
  const { protocol } = new URL(endpoint);
  if ((protocol !== 'https:' && protocol !== 'http:') || !BASE64.test(accessKey))
    return { ok: false, expected };
  return {
    ok: true,
    value: { connectionString: connectionString.trim(), endpoint, insecure: protocol === 'http:' },
  };
}
