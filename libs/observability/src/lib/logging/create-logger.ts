import { type LoggingSettings } from '@notifications/config';
import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { maskSecrets, redactError, redactLogFields } from './log-redaction';

export interface CreateLoggerOptions extends Partial<LoggingSettings> {
  /** `service` field of every line. */
  readonly service: string;
  /** Where lines go; default stdout (tests pass a stream to read them back). */
  readonly destination?: DestinationStream;
}

/**
 * The options behind every app's logger: JSON lines with `service`, an ISO `time`, the level as a word, the
 * active trace's `trace_id`/`span_id`, and secrets and email bodies redacted from fields and messages.
 */
export function loggerOptions(options: CreateLoggerOptions): LoggerOptions {
  return {
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (fields) => redactLogFields(fields) as Record<string, unknown>,
    },
    serializers: {
      err: (error: unknown) =>
        pino.stdSerializers.err(error instanceof Error ? redactError(error) : new Error(String(error))),
    },
    hooks: {
      // Messages are free text: mask credentials in them as in fields.
      logMethod(args, method) {
        const masked = args.map((arg: unknown) => (typeof arg === 'string' ? maskSecrets(arg) : arg));
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
    mixin: traceFields,
  };
}

/** The app's root pino logger. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination =
    options.destination ??
    (options.format === 'pretty'
      ? pretty({
          colorize: process.stdout.isTTY,
          translateTime: 'HH:MM:ss.l',
          // One line per event: `npm start` interleaves four apps' output, where multi-line records tear apart.
          singleLine: true,
          ignore: 'pid,hostname,service',
        })
      : pino.destination({ dest: 1, sync: true }));
  return pino(loggerOptions(options), destination);
}

/** Correlates log lines with traces: the ids of the span active when the line is written, if any. */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  // An unsampled or invalid context (all zeros) would only mislead.
  if ((traceFlags & 1) === 0 || /^0+$/.test(traceId)) return {};
  return { trace_id: traceId, span_id: spanId };
}
