import { decodeHeaders, headerInt, MessagingHeaders, type StringHeaders } from '../headers';
import { type ReadRecord } from './topic-reader';

/** Set on a replayed message: where it was replayed from (`<dead-letter topic>/<partition>/<offset>`). */
export const REPLAYED_FROM_HEADER = 'x-replayed-from';

// The headers the messaging runtime adds on the way to a retry or dead-letter topic; a replay drops them so the
// message reaches its origin as new (attempt 1, no due time), and a later failure records a fresh origin.
const RUNTIME_HEADERS: ReadonlySet<string> = new Set([
  ...Object.values(MessagingHeaders),
  REPLAYED_FROM_HEADER,
]);

const PREVIEW_LENGTH = 120;

/** A dead-lettered record with the runtime's dead-letter headers read out. */
export interface DeadLetterMessage {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: string;
  readonly key: string | null;
  readonly originTopic: string | null;
  readonly originPartition: number | null;
  readonly originOffset: string | null;
  readonly reason: string | null;
  readonly errorClass: string | null;
  readonly error: string | null;
  /** The attempt that failed last (1 = the first delivery). */
  readonly attempts: number;
  readonly deadLetteredAt: string | null;
  readonly consumerGroup: string | null;
  readonly valueBytes: number;
  readonly valuePreview: string | null;
  readonly headers: StringHeaders;
}

export function toDeadLetterMessage(record: ReadRecord): DeadLetterMessage {
  const headers = decodeHeaders(record.headers);
  const value = record.value?.toString('utf8') ?? null;
  const text = (name: string): string | null => headers[name] ?? null;
  return {
    partition: record.partition,
    offset: record.offset,
    timestamp: new Date(record.timestamp).toISOString(),
    key: record.key?.toString('utf8') ?? null,
    originTopic: text(MessagingHeaders.originalTopic),
    originPartition: headerInt(headers, MessagingHeaders.originalPartition) ?? null,
    originOffset: text(MessagingHeaders.originalOffset),
    reason: text(MessagingHeaders.deadLetterReason),
    errorClass: text(MessagingHeaders.errorClass),
    error: text(MessagingHeaders.errorMessage),
    attempts: headerInt(headers, MessagingHeaders.attempt) ?? 1,
    deadLetteredAt: text(MessagingHeaders.deadLetteredAt),
    consumerGroup: text(MessagingHeaders.consumerGroup),
    valueBytes: record.value?.length ?? 0,
    valuePreview:
      value === null
        ? null
        : value.length > PREVIEW_LENGTH
          ? `${value.slice(0, PREVIEW_LENGTH - 1)}…`
          : value,
    headers,
  };
}

/** The headers a replayed message keeps: every header except the runtime's retry and dead-letter headers. */
export function replayHeaders(headers: StringHeaders): StringHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !RUNTIME_HEADERS.has(name)));
}
