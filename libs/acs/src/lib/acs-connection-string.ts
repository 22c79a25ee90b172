import { envValue, type EnvParseResult, type EnvSchema } from '@notifications/config';

/** An ACS connection string (`endpoint=https://….communication.azure.com/;accesskey=<base64>`), checked. */
export interface AcsConnection {
  /** The whole string, as `@azure/communication-email` takes it. Secret: it holds the access key. */
  readonly connectionString: string;
  /** The resource endpoint, always ending in `/` (no secret; safe to log). */
  readonly endpoint: string;
  /** The base64 access key (secret): the HMAC key of every request, once decoded (`acsSigningKey`). */
  readonly accessKey: string;
  /** Plain HTTP is only ever a local emulator; the SDK refuses it unless told otherwise. */
  readonly insecure: boolean;
}

// The SDK's own pattern (@azure/communication-common parseConnectionString): what it accepts, we accept.
const CONNECTION_STRING = /endpoint=(.*);accesskey=(.*)/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** What a bad ACS_CONNECTION_STRING is told it should look like (never echoes the key). */
export const ACS_CONNECTION_STRING_FORMAT = 'endpoint=<http(s) URL>;accesskey=<base64 key>';

/**
 * Parses and checks a connection string the way the SDK will read it, so that a typo fails at start-up and not
 * on the first request. Error messages never contain the access key.
 */
export function parseAcsConnectionString(text: string): EnvParseResult<AcsConnection> {
  const refused = { ok: false, expected: ACS_CONNECTION_STRING_FORMAT } as const;
  const connectionString = text.trim();
  const match = CONNECTION_STRING.exec(connectionString);
  const endpoint = match?.[1]?.trim();
  const accessKey = match?.[2]?.trim();
  if (endpoint === undefined || accessKey === undefined || !URL.canParse(endpoint)) return refused;
  const { protocol } = new URL(endpoint);
  if ((protocol !== 'https:' && protocol !== 'http:') || !BASE64.test(accessKey)) return refused;
  return {
    ok: true,
    value: {
      connectionString,
      endpoint: endpoint.endsWith('/') ? endpoint : `${endpoint}/`,
      accessKey,
      insecure: protocol === 'http:',
    },
  };
}

/** `ACS_CONNECTION_STRING: envAcsConnectionString(DEFAULT)` in an app's settings group. */
export function envAcsConnectionString(defaultConnectionString: string): EnvSchema<AcsConnection> {
  const parsed = parseAcsConnectionString(defaultConnectionString);
  // A bad built-in default is a programming error: fail when the module loads.
  if (!parsed.ok) throw new TypeError(`Invalid default ACS connection string: expected ${parsed.expected}`);
  return envValue(parseAcsConnectionString, parsed.value);
}
