import {
  ACS_EMULATOR_ACCESS_KEY,
  ACS_EMULATOR_RESOURCE_ID,
  appEnvSettings,
  envBool,
  envDurationMs,
  envGroup,
  envInt,
  envString,
  envUrl,
  envValue,
  httpSettings,
  loadConfig,
  observabilitySettings,
  type Env,
  type EnvParseResult,
} from '@notifications/config';
import { z } from 'zod';
import { parseConnectionString, type ParsedConnectionString } from '../acs/connection-string';
import { rulesSchema, statusMixSchema } from '../scripting/rule.schema';
import { MAX_PER_MINUTE } from '../scripting/rate-limiter';

export const DEFAULT_PORT = 5099;

/**
 * The access key every app uses against the emulator by default: base64 of the ASCII text
 * `acs-emulator-development-access-key-not-a-secret`. Public on purpose (development and tests only); the apps
 * refuse it in production.
 */
export const DEFAULT_ACCESS_KEY = ACS_EMULATOR_ACCESS_KEY;
export const DEFAULT_CONNECTION_STRING = `endpoint=http://127.0.0.1:${DEFAULT_PORT}/;accesskey=${DEFAULT_ACCESS_KEY}`;

function envJson<S extends z.ZodType>(schema: S, what: string, defaultValue?: z.output<S>) {
  return envValue((raw): EnvParseResult<z.output<S>> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { ok: false, expected: `${what} as JSON` };
    }
    const result = schema.safeParse(parsed);
    if (result.success) return { ok: true, value: result.data };
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    return { ok: false, expected: `${what} (${problems.join('; ')})` };
  }, defaultValue);
}

const defaultConnection = parseConnectionString(DEFAULT_CONNECTION_STRING);
if (!defaultConnection) throw new TypeError('DEFAULT_CONNECTION_STRING does not parse');

const connectionString = envValue((raw): EnvParseResult<ParsedConnectionString> => {
  const parsed = parseConnectionString(raw);
  return parsed
    ? { ok: true, value: parsed }
    : { ok: false, expected: 'endpoint=<url>;accesskey=<base64 key>' };
}, defaultConnection);

const acsSettings = envGroup(
  z
    .object({
      ACS_CONNECTION_STRING: connectionString,
      ACS_OPERATION_DELAY_MS: envDurationMs('500ms', { max: 86_400_000 }),
      ACS_POLL_RETRY_AFTER_SECONDS: envInt(1, { min: 0, max: 3600 }),
      ACS_MAX_DATE_SKEW_MS: envDurationMs('15m', { min: 1000 }),
      // Off by default: whether ACS treats a second POST with an existing Operation-Id as the same send is not
      // documented (shared reference acs-email.md E.4: "Do not build on it"; .NET's operation-id overloads only say
      // they are there "to ensure that the same operation is not processed more than once"). So the emulator
      // assumes the unsafe answer, a second email, and a client is tested against what ACS could do. `true` is
      // for demonstrating the difference.
      ACS_DEDUPLICATE_OPERATION_ID: envBool(false),
      ACS_LOG_REQUESTS: envBool(false),
    })
    .transform((env) => ({
      accessKey: env.ACS_CONNECTION_STRING.accessKey,
      operationDelayMs: env.ACS_OPERATION_DELAY_MS,
      pollRetryAfterSeconds: env.ACS_POLL_RETRY_AFTER_SECONDS,
      maxDateSkewMs: env.ACS_MAX_DATE_SKEW_MS,
      deduplicateOperationIds: env.ACS_DEDUPLICATE_OPERATION_ID,
      logRequests: env.ACS_LOG_REQUESTS,
    })),
);

const scriptingSettings = envGroup(
  z
    .object({
      ACS_RULES: envJson(rulesSchema, 'a rule or an array of rules', []),
      ACS_BUILT_IN_RULES: envBool(true),
      ACS_RATE_LIMIT_PER_MINUTE: envInt(0, { min: 0, max: MAX_PER_MINUTE }),
    })
    .transform((env) => ({
      rules: env.ACS_RULES,
      builtInRules: env.ACS_BUILT_IN_RULES,
      rateLimitPerMinute: env.ACS_RATE_LIMIT_PER_MINUTE === 0 ? undefined : env.ACS_RATE_LIMIT_PER_MINUTE,
    })),
);

const storeSettings = envGroup(
  z
    .object({
      // The window of recent messages kept for inspection (counts and the duplicate check cover every message):
      // at most this many messages, and at most ACS_MAX_MESSAGES_MB of their stored content, whichever is less.
      // 20 000 (as deploy/k8s runs it): a larger window is old-generation garbage for V8 to trace; in the pipeline's
      // 500 000 bulk, 100 000 cost the emulator 0.225 CPU-ms per notification and 20 000 0.181. Readers that page
      // by `after` as messages arrive (the benchmarks) miss none; raise it to inspect more afterwards.
      ACS_MAX_MESSAGES: envInt(20_000, { min: 1, max: 20_000_000 }),
      // 32 MB hold 100 000 messages of a short email (~340 characters each) and ~23 000 of 1 KB HTML,
      // within the heap cap of package.json (`notifications.nodeArgs`).
      ACS_MAX_MESSAGES_MB: envInt(32, { min: 1, max: 100_000 }),
      ACS_STORED_BODY_CHARS: envInt(1024, { min: 0, max: 10_000_000 }),
    })
    .transform((env) => ({
      maxMessages: env.ACS_MAX_MESSAGES,
      maxMessageChars: env.ACS_MAX_MESSAGES_MB * 1024 * 1024,
      storedBodyChars: env.ACS_STORED_BODY_CHARS,
    })),
);

const deliveryReportSettings = envGroup(
  z
    .object({
      ACS_DELIVERY_REPORT_WEBHOOK: envUrl(undefined, { protocols: ['http', 'https'] }).optional(),
      ACS_DELIVERY_REPORT_STATUS_MIX: envJson(statusMixSchema, 'a status or {status: weight}', 'Delivered'),
      ACS_DELIVERY_REPORT_DELAY_MS: envDurationMs('200ms', { max: 86_400_000 }),
      // Event Grid batching (https://learn.microsoft.com/azure/event-grid/delivery-and-retry#batched-event-delivery):
      // BATCH_SIZE is the subscription's maxEventsPerBatch (1–5000), BATCH_KB its preferredBatchSizeInKilobytes
      // (1–1024). Batched by default, because one POST per event made the emulator (and the receiver) spend most
      // of their time on HTTP; the deployment's subscription should be set up the same way (README).
      ACS_DELIVERY_REPORT_BATCH_SIZE: envInt(500, { min: 1, max: 5000 }),
      ACS_DELIVERY_REPORT_BATCH_KB: envInt(1024, { min: 1, max: 1024 }),
      // How often due reports are collected at most: one tick serves every operation due by then.
      ACS_DELIVERY_REPORT_TICK_MS: envDurationMs('250ms', { max: 60_000 }),
      ACS_DELIVERY_REPORT_CONCURRENCY: envInt(8, { min: 1, max: 256 }),
      // Event Grid keeps retrying a subscription for up to 24 h, so a receiver that restarts loses nothing; 30
      // attempts with the backoff capped at 5 s cover a receiver down for about two and a half minutes.
      ACS_DELIVERY_REPORT_MAX_ATTEMPTS: envInt(30, { min: 1, max: 100 }),
      ACS_DELIVERY_REPORT_TIMEOUT_MS: envDurationMs('5s', { min: 1 }),
      // Sent in the X-Delivery-Report-Key header, as an Event Grid subscription's secret delivery property would.
      ACS_DELIVERY_REPORT_ACCESS_KEY: envString().optional(),
      // The `topic` of every event: the resource id status-poller accepts events from (its ACS_RESOURCE_ID).
      ACS_RESOURCE_ID: envString(ACS_EMULATOR_RESOURCE_ID),
    })
    .transform((env) => ({
      webhookUrl: env.ACS_DELIVERY_REPORT_WEBHOOK,
      statusMix: env.ACS_DELIVERY_REPORT_STATUS_MIX,
      delayMs: env.ACS_DELIVERY_REPORT_DELAY_MS,
      batchSize: env.ACS_DELIVERY_REPORT_BATCH_SIZE,
      batchKb: env.ACS_DELIVERY_REPORT_BATCH_KB,
      tickMs: env.ACS_DELIVERY_REPORT_TICK_MS,
      concurrency: env.ACS_DELIVERY_REPORT_CONCURRENCY,
      maxAttempts: env.ACS_DELIVERY_REPORT_MAX_ATTEMPTS,
      timeoutMs: env.ACS_DELIVERY_REPORT_TIMEOUT_MS,
      accessKey: env.ACS_DELIVERY_REPORT_ACCESS_KEY,
      resourceId: env.ACS_RESOURCE_ID,
    })),
);

export const emulatorConfigSchema = z.object({
  env: appEnvSettings,
  http: httpSettings(DEFAULT_PORT),
  acs: acsSettings,
  scripting: scriptingSettings,
  store: storeSettings,
  deliveryReports: deliveryReportSettings,
  /** LOG_LEVEL, LOG_FORMAT: the same variables and values as the apps. */
  observability: observabilitySettings,
});

export type EmulatorConfig = Readonly<z.infer<typeof emulatorConfigSchema>>;

/** Parses and validates the environment once; throws `ConfigError` listing every bad variable. */
export function loadEmulatorConfig(env: Env = process.env): EmulatorConfig {
  return loadConfig(emulatorConfigSchema, { ...env });
}

export const EMULATOR_CONFIG = Symbol('EMULATOR_CONFIG');
