import { type IHeaders } from 'kafkajs';

/**
 * Headers the runtime writes on retried and dead-lettered messages (string values, so any Kafka tool can read
 * them). Original headers such as `traceparent` are kept, so a retried message joins its original trace.
 */
export const MessagingHeaders = {
  attempt: 'x-attempt',
  dueAt: 'x-due-at',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  originalTimestamp: 'x-original-timestamp',
  consumerGroup: 'x-consumer-group',
  errorClass: 'x-error-class',
  errorMessage: 'x-error-message',
  firstFailedAt: 'x-first-failed-at',
  deadLetterReason: 'x-dead-letter-reason',
  deadLetteredAt: 'x-dead-lettered-at',
  /** On a dead-letter copy without the value (the value did not fit the topic): why it was left out. */
  valueOmitted: 'x-value-omitted',
  /** With `valueOmitted`: the left-out value's size in bytes. */
  originalValueBytes: 'x-original-value-bytes',
} as const;

/** `record-too-large`: the retry copy did not fit the retry topic, so it was dead-lettered without its value. */
export type DeadLetterReason =
  'invalid-message' | 'permanent-failure' | 'retries-exhausted' | 'record-too-large';

export type StringHeaders = Record<string, string>;

export function decodeHeaders(headers: IHeaders | undefined): StringHeaders {
  const decoded: StringHeaders = {};
  if (!headers) return decoded;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    decoded[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return decoded;
}

export function headerInt(headers: StringHeaders, name: string): number | undefined {
  const raw = headers[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Error messages can be long or carry payload fragments; headers keep a bounded prefix. */
export function truncateForHeader(text: string, maxLength = 500): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
