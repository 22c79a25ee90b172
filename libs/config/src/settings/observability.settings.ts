import { z } from 'zod';
import { envBool, envEnum, envString, envUrl } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';

/**
 * Every spelling of a level the apps accept: pino's names plus Nest's (`log` = info, `verbose` = trace), so one
 * LOG_LEVEL works whichever app reads it.
 */
export const LOG_LEVEL_NAMES = [
  'trace',
  'verbose',
  'debug',
  'info',
  'log',
  'warn',
  'error',
  'fatal',
  'silent',
] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export const PINO_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type PinoLevel = (typeof PINO_LEVELS)[number];

/** `json` (one JSON object per line) unless asked otherwise; `pretty` and `text` are human-readable. */
export const LOG_FORMAT_NAMES = ['json', 'pretty', 'text'] as const;

export interface LoggingSettings {
  readonly level: PinoLevel;
  readonly format: 'json' | 'pretty';
  /** One line per HTTP request (health probes and metric scrapes excepted). */
  readonly httpRequests: boolean;
}

export interface TracingSettings {
  /** Spans are exported only when true: `TRACING_ENABLED`, default true exactly when an endpoint is set. */
  readonly enabled: boolean;
  /** OTLP/HTTP base URL; spans are posted as JSON to `<endpoint>/v1/traces`. */
  readonly endpoint?: string;
  /** `service.name` of the spans; default: the app's name. */
  readonly serviceName?: string;
}

export interface ObservabilitySettings {
  readonly logging: LoggingSettings;
  readonly tracing: TracingSettings;
}

const toPinoLevel = (level: LogLevelName): PinoLevel =>
  level === 'log' ? 'info' : level === 'verbose' ? 'trace' : level;

/** Logging (LOG_LEVEL, LOG_FORMAT, LOG_HTTP_REQUESTS) and tracing (TRACING_ENABLED, OTEL_*) of any app. */
export const observabilitySettings: SettingGroup<ObservabilitySettings> = envGroup(
  z
    .object({
      LOG_LEVEL: envEnum(LOG_LEVEL_NAMES, 'info'),
      LOG_FORMAT: envEnum(LOG_FORMAT_NAMES, 'json'),
      LOG_HTTP_REQUESTS: envBool(true),
      TRACING_ENABLED: envBool().optional(),
      OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(undefined, { protocols: ['http', 'https'] }).optional(),
      OTEL_SERVICE_NAME: envString().optional(),
    })
    .superRefine((env, ctx) => {
      if (env.TRACING_ENABLED === true && env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['OTEL_EXPORTER_OTLP_ENDPOINT'],
          message: 'required when TRACING_ENABLED=true (the OTLP/HTTP collector, e.g. http://127.0.0.1:4318)',
        });
      }
    })
    .transform((env): ObservabilitySettings => ({
      logging: {
        level: toPinoLevel(env.LOG_LEVEL),
        format: env.LOG_FORMAT === 'json' ? 'json' : 'pretty',
        httpRequests: env.LOG_HTTP_REQUESTS,
      },
      tracing: {
        enabled: env.TRACING_ENABLED ?? env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined,
        ...(env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
          ? {}
          : { endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '') }),
        ...(env.OTEL_SERVICE_NAME === undefined ? {} : { serviceName: env.OTEL_SERVICE_NAME }),
      },
    })),
);
