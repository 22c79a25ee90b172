import { acsProductionSettings, envAcsConnectionString } from '@notifications/acs';
import {
  ACS_EMULATOR_ACCESS_KEY,
  ConfigError,
  appEnvSettings,
  envDurationMs,
  envGroup,
  envInt,
  httpSettings,
  managementSettings,
  kafkaSettings,
  loadConfig,
  observabilitySettings,
  type ConfigProblem,
} from '@notifications/config';
import { z } from 'zod';

/**
 * The local ACS emulator's documented connection string (`apps/acs-emulator`; its access key is public on purpose),
 * so that `npm start` works with no configuration. Production sets ACS_CONNECTION_STRING from a secret.
 */
export const DEFAULT_ACS_CONNECTION_STRING = `endpoint=http://127.0.0.1:5099/;accesskey=${ACS_EMULATOR_ACCESS_KEY}`;

const acsSettings = envGroup(
  z
    .object({
      ACS_CONNECTION_STRING: envAcsConnectionString(DEFAULT_ACS_CONNECTION_STRING),
      ACS_REQUEST_TIMEOUT_MS: envDurationMs('10s', { min: 100 }),
      ACS_MAX_RETRIES: envInt(2, { min: 0, max: 10 }),
      ACS_RETRY_DELAY_MS: envDurationMs('1s', { min: 0 }),
      ACS_MAX_RETRY_DELAY_MS: envDurationMs('8s', { min: 0 }),
      ACS_DEFAULT_RETRY_AFTER_MS: envDurationMs('60s', { min: 1_000 }),
      // Cap on any wait ACS asks for (Retry-After, a rate-limit reset): beyond it the send is simply tried again.
      ACS_MAX_RETRY_AFTER_MS: envDurationMs('1h', { min: 1_000, max: 2 ** 31 - 1 }),
    })
    .transform((env) => ({
      connection: env.ACS_CONNECTION_STRING,
      requestTimeoutMs: env.ACS_REQUEST_TIMEOUT_MS,
      maxRetries: env.ACS_MAX_RETRIES,
      retryDelayMs: env.ACS_RETRY_DELAY_MS,
      maxRetryDelayMs: env.ACS_MAX_RETRY_DELAY_MS,
      defaultRetryAfterMs: env.ACS_DEFAULT_RETRY_AFTER_MS,
      maxRetryAfterMs: env.ACS_MAX_RETRY_AFTER_MS,
    })),
);

const sendingSettings = envGroup(
  z
    .object({
      // Throughput per replica is about concurrency / ACS response time: 16 held the pipeline benchmark below
      // 2 000 emails/s with the emulator answering in milliseconds (README "Benchmark" and the root README's
      // Performance), and real ACS answers in tens to hundreds of milliseconds.
      EMAIL_SEND_CONCURRENCY: envInt(64, { min: 1, max: 1_000 }),
      EMAIL_RATE_LIMIT_PER_MINUTE: envInt(0, { min: 0 }),
      EMAIL_MAX_HOLD_MS: envDurationMs('10s', { min: 0 }),
      EMAIL_RETRY_MAX_ATTEMPTS: envInt(5, { min: 1, max: 100 }),
      EMAIL_RETRY_INITIAL_DELAY_MS: envDurationMs('5s', { min: 0 }),
      EMAIL_RETRY_MULTIPLIER: envInt(4, { min: 1, max: 100 }),
      EMAIL_RETRY_MAX_DELAY_MS: envDurationMs('5m', { min: 0 }),
      // Orders' notification expiry (ORDERS_NOTIFICATION_EXPIRY, 48h): an older email is expired, never sent.
      // Must stay below the broker's offsets.retention.minutes (7 days by default), see message-age.ts.
      EMAIL_MAX_MESSAGE_AGE_MS: envDurationMs('48h', { min: 60_000, max: 7 * 86_400_000 - 1 }),
      // ACS outage pauses in a row for one email before it spends an attempt (sending/acs-outages.ts).
      EMAIL_MAX_ACS_OUTAGE_PAUSES: envInt(10, { min: 0, max: 1_000 }),
    })
    .transform((env) => ({
      concurrency: env.EMAIL_SEND_CONCURRENCY,
      ratePerMinute: env.EMAIL_RATE_LIMIT_PER_MINUTE,
      maxHoldMs: env.EMAIL_MAX_HOLD_MS,
      maxMessageAgeMs: env.EMAIL_MAX_MESSAGE_AGE_MS,
      maxAcsOutagePausesPerEmail: env.EMAIL_MAX_ACS_OUTAGE_PAUSES,
      retryPolicy: {
        maxAttempts: env.EMAIL_RETRY_MAX_ATTEMPTS,
        initialDelayMs: env.EMAIL_RETRY_INITIAL_DELAY_MS,
        multiplier: env.EMAIL_RETRY_MULTIPLIER,
        maxDelayMs: env.EMAIL_RETRY_MAX_DELAY_MS,
      },
    })),
);

const emailSenderSchema = z.object({
  env: appEnvSettings,
  // Half of kafkajs' 1 MiB: a fetch of email.queue stays in memory, decoded, until every batch of it is sent, and at
  // 1 MiB the sender's peak RSS reached 243–260 MB at 500 000 recipients (issue 12's bound is 256); 512 KiB kept it
  // at 225–234 MB for the same throughput (README, Performance: seventh session).
  kafka: kafkaSettings('email-sender', { fetchMaxBytesPerPartition: 512 * 1024 }),
  http: httpSettings(5091),
  management: managementSettings(5091),
  acs: acsSettings,
  // Production refuses the emulator (its endpoint, its public key, the default) unless explicitly allowed.
  acsProduction: acsProductionSettings,
  sending: sendingSettings,
  /** LOG_LEVEL, LOG_FORMAT, tracing: the same variables and values in every app. */
  observability: observabilitySettings,
});

export type EmailSenderConfig = Readonly<z.infer<typeof emailSenderSchema>>;

/**
 * Reads and checks every setting once; throws ConfigError listing every bad variable. The checks between
 * variables run after the per-variable ones, so they only ever see valid values.
 */
export function loadEmailSenderConfig(
  env: Record<string, string | undefined> = process.env,
): EmailSenderConfig {
  const config = loadConfig(emailSenderSchema, env);
  const problems: ConfigProblem[] = [];
  // A message held in the handler keeps its partition's batch open; the runner heartbeats meanwhile, but a
  // rebalance must not wait on it for longer than a session.
  if (config.sending.maxHoldMs >= config.kafka.sessionTimeoutMs) {
    problems.push({
      variable: 'EMAIL_MAX_HOLD_MS',
      message: `must be shorter than KAFKA_SESSION_TIMEOUT_MS (${config.kafka.sessionTimeoutMs} ms), got ${config.sending.maxHoldMs} ms`,
    });
  }
  if (config.acs.maxRetryDelayMs < config.acs.retryDelayMs) {
    problems.push({
      variable: 'ACS_MAX_RETRY_DELAY_MS',
      message: `must not be shorter than ACS_RETRY_DELAY_MS (${config.acs.retryDelayMs} ms)`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
