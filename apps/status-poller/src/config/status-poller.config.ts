import {
  appEnvSettings,
  envDurationMs,
  envEnum,
  envGroup,
  envInt,
  envString,
  envValue,
  httpSettings,
  managementSettings,
  kafkaSettings,
  loadConfig,
  type Env,
  type EnvParseResult,
} from '@notifications/config';
import { z } from 'zod';
import { parseAcsConnectionString, type AcsConnection } from '../acs/acs-connection-string';
import { checkIntervals, MAX_DISTINCT_INTERVALS } from '../polling/check-schedule';

export const DEFAULT_PORT = 5092;

/**
 * The ACS emulator's documented development connection string (`apps/acs-emulator`): its access key is base64 of
 * `acs-emulator-development-access-key-not-a-secret`. Public on purpose; production sets ACS_CONNECTION_STRING.
 */
export const DEFAULT_ACS_CONNECTION_STRING =
  'endpoint=http://127.0.0.1:5099/;accesskey=YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

/** Development default of the delivery-report webhook's `?accesskey=`; production sets its own. */
export const DEFAULT_DELIVERY_REPORT_ACCESS_KEY = 'status-poller-dev-delivery-report-key';

/** The ACS API version `@azure/communication-email` 1.1.0 uses. */
export const DEFAULT_ACS_API_VERSION = '2025-09-01';

const acsConnectionString = envValue((raw): EnvParseResult<AcsConnection> => {
  const parsed = parseAcsConnectionString(raw);
  return parsed
    ? { ok: true, value: parsed }
    : { ok: false, expected: 'endpoint=<http(s) URL>;accesskey=<base64 key>' };
}, parseAcsConnectionString(DEFAULT_ACS_CONNECTION_STRING));

const multiplier = envValue((raw): EnvParseResult<number> => {
  const value = Number(raw);
  return /^\d+(\.\d+)?$/.test(raw) && value >= 1 && value <= 10
    ? { ok: true, value }
    : { ok: false, expected: 'a number from 1 to 10' };
}, 2);

const DAY_MS = 86_400_000;

const acsSettings = envGroup(
  z
    .object({
      ACS_CONNECTION_STRING: acsConnectionString,
      ACS_API_VERSION: envString(DEFAULT_ACS_API_VERSION),
      ACS_REQUEST_TIMEOUT_MS: envDurationMs('10s', { min: 100, max: 120_000 }),
      ACS_MAX_CONNECTIONS: envInt(64, { min: 1, max: 4096 }),
    })
    .transform((env) => ({
      endpoint: env.ACS_CONNECTION_STRING.endpoint,
      accessKey: env.ACS_CONNECTION_STRING.accessKey,
      apiVersion: env.ACS_API_VERSION,
      requestTimeoutMs: env.ACS_REQUEST_TIMEOUT_MS,
      maxConnections: env.ACS_MAX_CONNECTIONS,
    })),
);

const pollingSettings = envGroup(
  z
    .object({
      STATUS_CHECK_FIRST_DELAY_MS: envDurationMs('2s', { min: 100, max: DAY_MS }),
      STATUS_CHECK_BACKOFF_MULTIPLIER: multiplier,
      STATUS_CHECK_MAX_INTERVAL_MS: envDurationMs('60s', { min: 100, max: DAY_MS }),
      STATUS_CHECK_DEADLINE_MS: envDurationMs('48h', { min: 1000, max: 30 * DAY_MS }),
      STATUS_CHECK_MAX_HOLD_MS: envDurationMs('250ms', { min: 0, max: 5000 }),
      STATUS_CHECK_DUE_GRANULARITY_MS: envDurationMs('50ms', { min: 0, max: 5000 }),
      STATUS_CHECK_CONCURRENCY: envInt(32, { min: 1, max: 1000 }),
      STATUS_CHECK_FETCH_MAX_WAIT_MS: envDurationMs('100ms', { min: 10, max: 5000 }),
    })
    .transform((env) => ({
      firstCheckDelayMs: env.STATUS_CHECK_FIRST_DELAY_MS,
      backoffMultiplier: env.STATUS_CHECK_BACKOFF_MULTIPLIER,
      maxIntervalMs: Math.max(env.STATUS_CHECK_MAX_INTERVAL_MS, env.STATUS_CHECK_FIRST_DELAY_MS),
      deadlineMs: env.STATUS_CHECK_DEADLINE_MS,
      maxHoldMs: env.STATUS_CHECK_MAX_HOLD_MS,
      dueGranularityMs: env.STATUS_CHECK_DUE_GRANULARITY_MS,
      perPartitionConcurrency: env.STATUS_CHECK_CONCURRENCY,
      fetchMaxWaitMs: env.STATUS_CHECK_FETCH_MAX_WAIT_MS,
    }))
    .refine((polling) => checkIntervals(polling).length <= MAX_DISTINCT_INTERVALS, {
      // Each distinct interval is a delay topic; a multiplier close to 1 would create dozens of them.
      path: ['STATUS_CHECK_BACKOFF_MULTIPLIER'],
      message: `the schedule from STATUS_CHECK_FIRST_DELAY_MS to STATUS_CHECK_MAX_INTERVAL_MS may have at most ${MAX_DISTINCT_INTERVALS} distinct intervals (each is a delay topic): raise the multiplier`,
    }),
);

const deliveryReportSettings = envGroup(
  z
    .object({
      DELIVERY_REPORT_ACCESS_KEY: envString(DEFAULT_DELIVERY_REPORT_ACCESS_KEY),
      DELIVERY_REPORT_MAX_BODY_BYTES: envInt(2 * 1024 * 1024, { min: 1024, max: 64 * 1024 * 1024 }),
    })
    .transform((env) => ({
      accessKey: env.DELIVERY_REPORT_ACCESS_KEY,
      maxBodyBytes: env.DELIVERY_REPORT_MAX_BODY_BYTES,
    })),
);

const topicSettings = envGroup(
  z
    .object({
      // Default: altinn.notifications.status-poller (plus `.<suffix>` when KAFKA_TOPIC_SUFFIX is set).
      STATUS_POLLER_GROUP_ID: envString().optional(),
    })
    .transform((env) => ({ groupId: env.STATUS_POLLER_GROUP_ID })),
);

export const LOG_LEVELS = ['debug', 'log', 'warn', 'error'] as const;

export const statusPollerConfigSchema = z.object({
  env: appEnvSettings,
  LOG_LEVEL: envEnum(LOG_LEVELS, 'log'),
  http: httpSettings(DEFAULT_PORT),
  management: managementSettings(DEFAULT_PORT),
  kafka: kafkaSettings('status-poller'),
  acs: acsSettings,
  polling: pollingSettings,
  deliveryReports: deliveryReportSettings,
  topics: topicSettings,
});

export type StatusPollerConfig = Readonly<z.infer<typeof statusPollerConfigSchema>>;
export type PollingSettings = StatusPollerConfig['polling'];
export type AcsSettings = StatusPollerConfig['acs'];

/** Parses and validates the environment once; throws `ConfigError` naming every bad variable. */
export function loadStatusPollerConfig(env: Env = process.env): StatusPollerConfig {
  return loadConfig(statusPollerConfigSchema, { ...env });
}

export const STATUS_POLLER_CONFIG = Symbol('STATUS_POLLER_CONFIG');
