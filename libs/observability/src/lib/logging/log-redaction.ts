import { IncomingMessage, ServerResponse } from 'node:http';
import { maskPersonalData } from '@notifications/messaging';

/**
 * What never reaches a log line: credentials (passwords, access keys, JWTs and bearer tokens, connection
 * strings, signed URLs), email content, and email addresses and identity numbers (`maskPersonalData`). Applied to every field and message by the logger `createLogger`
 * builds, so a call site that logs a whole config or message object by mistake still leaks nothing.
 */
export const REDACTED = '***';

// Field names whose values are secrets whatever they look like.
const SECRET_KEY =
  /pass(word|wd)?$|secret|token|jwt|authorization|cookie|access_?key|api_?key|private_?key|connection_?string|signature|credential/i;
// Email content: personal data, and large. Logged as its length only.
const CONTENT_KEY = /^(body|html|plain_?text|html_?body|text_?body|content|personalisation)$/i;

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]*@/gi;
const SECRET_PARAMETER = /\b((?:[a-z]*password|pwd|secret|[a-z]*key|token|sig|signature|code)=)[^;&\s"']+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|Basic|SharedKey|HMAC-SHA256)\s+[A-Za-z0-9._~+/=:&-]{8,}/gi;

const MAX_DEPTH = 6;

export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/**
 * Masks credentials inside free text (URL passwords, `key=value` secrets, JWTs, Authorization values) and
 * personal data (email addresses, identity numbers).
 */
export function maskSecrets(text: string): string {
  const withoutSecrets =
    text.length < 8
      ? text
      : text
          .replace(URL_PASSWORD, `$1${REDACTED}@`)
          .replace(SECRET_PARAMETER, `$1${REDACTED}`)
          .replace(JWT, REDACTED)
          .replace(BEARER, `$1 ${REDACTED}`);
  // Credentials first: a masked URL password (`user:***@host`) is then no longer address-shaped.
  return maskPersonalData(withoutSecrets);
}

/** A copy of a log record's fields with secrets and email content removed (the original is not touched). */
export function redactLogFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (value instanceof Error) return redactError(value);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Date) return value;
  // pino-http logs the raw request and response: graphs of sockets, parsers and the whole app. Walking them to
  // MAX_DEPTH on every request line cost a quarter of status-poller's CPU under Event Grid's report POSTs (CPU
  // profile, issue 12), and the serializers (pino-http-params.ts) keep only these fields of them anyway.
  if (value instanceof IncomingMessage) return requestSummary(value);
  if (value instanceof ServerResponse) return { statusCode: value.statusCode };
  if (Array.isArray(value)) return value.map((item: unknown) => redactLogFields(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) copy[key] = item;
    else if (isSecretKey(key)) copy[key] = REDACTED;
    else if (CONTENT_KEY.test(key)) copy[key] = contentSummary(item);
    else copy[key] = redactLogFields(item, depth + 1);
  }
  return copy;
}

/** What the request serializer logs: pino-http's request id, the method, and the URL with credentials masked. */
function requestSummary(
  req: IncomingMessage & { id?: unknown; originalUrl?: string },
): Record<string, unknown> {
  return { id: req.id, method: req.method, url: maskSecrets(req.originalUrl ?? req.url ?? '') };
}

function contentSummary(item: unknown): string {
  if (typeof item === 'string') return `[${item.length} chars]`;
  return '[content]';
}

/** Errors keep their class and (masked) message and stack, so pino's error serializer still applies. */
export function redactError(error: Error): Error {
  const copy = new Error(maskSecrets(error.message));
  copy.name = error.name;
  if (error.stack !== undefined) copy.stack = maskSecrets(error.stack);
  return copy;
}
