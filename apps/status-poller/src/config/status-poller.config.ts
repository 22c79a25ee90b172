import { ACS_EMAIL_API_VERSION, acsProductionSettings, envAcsConnectionString } from '@notifications/acs';
import {
  ACS_EMULATOR_ACCESS_KEY,
  ACS_EMULATOR_RESOURCE_ID,
  appEnvSettings,
  envBool,
  envDurationMs,
  envGroup,
  envInt,
  envString,
  envValue,
  httpSettings,
  managementSettings,
  kafkaSettings,
  loadConfig,
  observabilitySettings,
  type Env,
  isProductionEnv,
  rawAppEnvFields,
  type EnvParseResult,
} from '@notifications/config';
import { z } from 'zod';
import { checkIntervals, MAX_DISTINCT_INTERVALS } from '../domain/check-schedule';

export const DEFAULT_PORT = 5092;

/**
 * The ACS emulator's documented development connection string (`apps/acs-emulator`; its access key is public on
 * purpose). Production sets ACS_CONNECTION_STRING and refuses this one (`acsProductionSettings`).
 */
export const DEFAULT_ACS_CONNECTION_STRING = `endpoint=http://127.0.0.1:5099/;accesskey=${ACS_EMULATOR_ACCESS_KEY}`;

/** Development and test default of the delivery-report webhook's key; production has none and requires one. */
export const DEFAULT_DELIVERY_REPORT_ACCESS_KEY = 'status-poller-dev-delivery-report-key';

/**
 * Event Grid delivers at most 5 000 events per request ("Max events per batch" of output batching, 1–5 000:
 * https://learn.microsoft.com/azure/event-grid/delivery-and-retry#output-batching), one by default.
 */
export const EVENT_GRID_MAX_EVENTS_PER_BATCH = 5000;

const ACS_RESOURCE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Communication\/communicationServices\/[^/]+$/i;

/** The ACS API version `@azure/communication-email` 1.1.0 uses, as email-sender does. */
export const DEFAULT_ACS_API_VERSION = ACS_EMAIL_API_VERSION;

const acsConnectionString = envAcsConnectionString(DEFAULT_ACS_CONNECTION_STRING);

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
      // A fetched batch of the accepted topic holds the fetch round of every partition while it waits: keep it short.
      STATUS_CHECK_BATCH_HOLD_MS: envDurationMs('2s', { min: 0, max: 5000 }),
      STATUS_CHECK_DUE_GRANULARITY_MS: envDurationMs('50ms', { min: 0, max: 5000 }),
      STATUS_CHECK_CONCURRENCY: envInt(32, { min: 1, max: 1000 }),
      STATUS_CHECK_FETCH_MAX_WAIT_MS: envDurationMs('100ms', { min: 10, max: 5000 }),
      // ~100 bytes per id: 100 000 ids ≈ 10 MB, about 50 s of reports at 2 000 notifications/s.
      STATUS_CHECK_REPORTED_MEMORY: envInt(100_000, { min: 0, max: 10_000_000 }),
    })
    .transform((env) => ({
      firstCheckDelayMs: env.STATUS_CHECK_FIRST_DELAY_MS,
      backoffMultiplier: env.STATUS_CHECK_BACKOFF_MULTIPLIER,
      maxIntervalMs: Math.max(env.STATUS_CHECK_MAX_INTERVAL_MS, env.STATUS_CHECK_FIRST_DELAY_MS),
      deadlineMs: env.STATUS_CHECK_DEADLINE_MS,
      maxHoldMs: env.STATUS_CHECK_MAX_HOLD_MS,
      batchHoldMs: Math.max(env.STATUS_CHECK_BATCH_HOLD_MS, env.STATUS_CHECK_MAX_HOLD_MS),
      dueGranularityMs: env.STATUS_CHECK_DUE_GRANULARITY_MS,
      perPartitionConcurrency: env.STATUS_CHECK_CONCURRENCY,
      fetchMaxWaitMs: env.STATUS_CHECK_FETCH_MAX_WAIT_MS,
      reportedMemory: env.STATUS_CHECK_REPORTED_MEMORY,
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
      ...rawAppEnvFields,
      // No default in production: a default secret would be a public one.
      DELIVERY_REPORT_ACCESS_KEY: envString().optional(),
      DELIVERY_REPORT_MAX_BODY_BYTES: envInt(2 * 1024 * 1024, { min: 1024, max: 64 * 1024 * 1024 }),
      DELIVERY_REPORT_MAX_EVENTS: envInt(EVENT_GRID_MAX_EVENTS_PER_BATCH, {
        min: 1,
        max: EVENT_GRID_MAX_EVENTS_PER_BATCH,
      }),
      // The ACS resource whose events are accepted (`topic`/`source` of each event); the emulator's by default.
      ACS_RESOURCE_ID: envValue((raw): EnvParseResult<string> =>
        ACS_RESOURCE_ID.test(raw)
          ? { ok: true, value: raw }
          : {
              ok: false,
              expected:
                'an ACS resource id: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Communication/communicationServices/<name>',
            },
      ).optional(),
      // Off: a key in the URL ends up in access logs and proxies (see DeliveryReportAccessKeyGuard).
      DELIVERY_REPORT_ALLOW_QUERY_KEY: envBool(false),
    })
    .superRefine((env, ctx) => {
      if (!isProductionEnv(env)) return;
      for (const variable of ['DELIVERY_REPORT_ACCESS_KEY', 'ACS_RESOURCE_ID'] as const) {
        if (env[variable] !== undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [variable],
          message:
            variable === 'ACS_RESOURCE_ID'
              ? 'required in production: the resource id of the ACS resource whose delivery reports are accepted'
              : 'required in production: there is no default webhook key',
        });
      }
    })
    .transform((env) => ({
      accessKey: env.DELIVERY_REPORT_ACCESS_KEY ?? DEFAULT_DELIVERY_REPORT_ACCESS_KEY,
      allowQueryKey: env.DELIVERY_REPORT_ALLOW_QUERY_KEY,
      maxBodyBytes: env.DELIVERY_REPORT_MAX_BODY_BYTES,
      maxEventsPerRequest: env.DELIVERY_REPORT_MAX_EVENTS,
      acsResourceId: env.ACS_RESOURCE_ID ?? ACS_EMULATOR_RESOURCE_ID,
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

export const statusPollerConfigSchema = z.object({
  env: appEnvSettings,
  /** LOG_LEVEL, LOG_FORMAT, tracing: the same variables and values in every app. */
  observability: observabilitySettings,
  http: httpSettings(DEFAULT_PORT),
  management: managementSettings(DEFAULT_PORT),
  kafka: kafkaSettings('status-poller'),
  acs: acsSettings,
  acsProduction: acsProductionSettings,
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
