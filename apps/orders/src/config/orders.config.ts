import {
  APP_ENVS,
  appEnvSettings,
  databaseSettings,
  envBool,
  envDurationMs,
  envEnum,
  envGroup,
  envInt,
  envList,
  envString,
  envUrl,
  httpSettings,
  jwtAuthSettings,
  managementSettings,
  kafkaSettings,
  loadConfig,
  observabilitySettings,
  ConfigError,
  type AppEnv,
  type JwtAuthSettings,
  type SettingGroup,
} from '@notifications/config';
import { z } from 'zod';
import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../domain/address-policy';

// The scope the reference API requires of service owners creating notification orders.
export const NOTIFICATIONS_CREATE_SCOPE = 'altinn:serviceowner/notifications.create';

/** Service owners' tokens: `AUTH_JWT_PUBLIC_KEY` or `AUTH_JWKS_URL`, else (not in production) the dev key. */
export type AuthSettings = JwtAuthSettings;

const authSettings: SettingGroup<AuthSettings> = jwtAuthSettings({
  prefix: 'AUTH_',
  defaultScope: NOTIFICATIONS_CREATE_SCOPE,
});

const appEnvOf = (env: { APP_ENV?: AppEnv; NODE_ENV?: AppEnv }): AppEnv =>
  env.APP_ENV ?? env.NODE_ENV ?? 'development';

export const CONTACT_POINT_SOURCES = ['local', 'http'] as const;
export type ContactPointSource = (typeof CONTACT_POINT_SOURCES)[number];

export interface ContactPointSettings {
  readonly source: ContactPointSource;
  /** Base URL of the Profile-compatible API (`…/profile/api/v1/`); set when `source` is `http`. */
  readonly baseUrl?: string;
  /** The whole lookup request (answer included). */
  readonly timeoutMs: number;
  /** Identifiers per lookup request. */
  readonly batchSize: number;
  /** Largest answer read from the register. */
  readonly maxResponseBytes: number;
}

/** `http` (Altinn Profile-compatible API) by default in production, the local table elsewhere. */
const contactPointSettings: SettingGroup<ContactPointSettings> = envGroup(
  z
    .object({
      APP_ENV: envEnum(APP_ENVS).optional(),
      NODE_ENV: envEnum(APP_ENVS).optional(),
      CONTACT_POINTS_SOURCE: envEnum(CONTACT_POINT_SOURCES).optional(),
      CONTACT_POINTS_BASE_URL: envUrl(undefined, { protocols: ['https', 'http'] }).optional(),
      CONTACT_POINTS_TIMEOUT: envDurationMs('10s', { min: 1 }),
      CONTACT_POINTS_BATCH_SIZE: envInt(500, { min: 1, max: 10_000 }),
      // 500 entries of a few hundred bytes each are well under a MiB; the cap only stops a runaway answer.
      CONTACT_POINTS_MAX_RESPONSE_BYTES: envInt(4 * 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
    })
    .superRefine((env, ctx) => {
      const source = env.CONTACT_POINTS_SOURCE ?? (appEnvOf(env) === 'production' ? 'http' : 'local');
      if (source === 'http' && env.CONTACT_POINTS_BASE_URL === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['CONTACT_POINTS_BASE_URL'],
          message: 'required when contact points come from the HTTP API (CONTACT_POINTS_SOURCE=http)',
        });
      }
    })
    .transform((env): ContactPointSettings => ({
      source: env.CONTACT_POINTS_SOURCE ?? (appEnvOf(env) === 'production' ? 'http' : 'local'),
      ...(env.CONTACT_POINTS_BASE_URL === undefined ? {} : { baseUrl: env.CONTACT_POINTS_BASE_URL }),
      timeoutMs: env.CONTACT_POINTS_TIMEOUT,
      batchSize: env.CONTACT_POINTS_BATCH_SIZE,
      maxResponseBytes: env.CONTACT_POINTS_MAX_RESPONSE_BYTES,
    })),
);

export interface OutboundSettings {
  /** Hosts (by name) and address ranges that requests made for a tenant may reach despite being non-public. */
  readonly allowList: readonly AllowEntry[];
  /** Redirects of a GET followed, each hop checked again. */
  readonly maxRedirects: number;
  /** A `conditionEndpoint` must answer in full within this time… */
  readonly conditionTimeoutMs: number;
  /** …with at most this many bytes (`{"sendCondition": true}` needs a few dozen). */
  readonly conditionMaxResponseBytes: number;
}

// Local receivers, the emulator and test servers listen on loopback in development and test.
const DEVELOPMENT_ALLOW_LIST = ['localhost', '127.0.0.0/8', '::1'];

/**
 * The outbound-request guard (docs/security.md): production allows no non-public address unless
 * `OUTBOUND_ALLOW_LIST` names it; development and test allow loopback. `none` is an explicitly empty list.
 */
const outboundSettings: SettingGroup<OutboundSettings> = envGroup(
  z
    .object({
      APP_ENV: envEnum(APP_ENVS).optional(),
      NODE_ENV: envEnum(APP_ENVS).optional(),
      OUTBOUND_ALLOW_LIST: envList().optional(),
      OUTBOUND_MAX_REDIRECTS: envInt(3, { min: 0, max: 10 }),
      SEND_CONDITION_TIMEOUT: envDurationMs('5s', { min: 100, max: 60_000 }),
      SEND_CONDITION_MAX_RESPONSE_BYTES: envInt(4096, { min: 64, max: 1024 * 1024 }),
    })
    .transform((env, ctx): OutboundSettings => {
      const raw = env.OUTBOUND_ALLOW_LIST ?? (appEnvOf(env) === 'production' ? [] : DEVELOPMENT_ALLOW_LIST);
      const isNone = raw.length === 1 && raw[0]?.toLowerCase() === 'none';
      const allowList: AllowEntry[] = [];
      for (const item of isNone ? [] : raw) {
        const entry = parseAllowEntry(item);
        if (entry === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['OUTBOUND_ALLOW_LIST'],
            message: `expected host names, IP addresses or CIDRs (e.g. profile.internal,10.1.0.0/16), or none; "${item}" is none of them`,
          });
        } else allowList.push(entry);
      }
      return {
        allowList,
        maxRedirects: env.OUTBOUND_MAX_REDIRECTS,
        conditionTimeoutMs: env.SEND_CONDITION_TIMEOUT,
        conditionMaxResponseBytes: env.SEND_CONDITION_MAX_RESPONSE_BYTES,
      };
    }),
);

export interface SchedulerSettings {
  /** Whether the built-in background jobs run in this process at all. */
  readonly enabled: boolean;
  readonly pastDueIntervalMs: number;
  readonly emailPublishIntervalMs: number;
  readonly outboxRelayIntervalMs: number;
  readonly sweepIntervalMs: number;
  readonly orderClaimBatchSize: number;
  /** Email text and inline recipient bytes one order-claim cycle takes at most, past its first order. */
  readonly orderClaimBatchBytes: number;
  readonly emailClaimBatchSize: number;
  /** Email text bytes (subject + body per notification) one publishing cycle claims at most, past its first. */
  readonly emailClaimBatchBytes: number;
  readonly outboxBatchSize: number;
  /** Payload bytes one relay cycle claims at most (past its first row): bounds the relay's memory. */
  readonly outboxBatchBytes: number;
  readonly outboxRelayConcurrency: number;
  /**
   * How long a relay waits for the broker to acknowledge a batch before it counts the rest as failed; its
   * transaction, which holds the rows, is ended by PostgreSQL after twice this idle time (a frozen relay).
   */
  readonly outboxLeaseMs: number;
  /** Published outbox rows are kept this long (for inspection), then deleted; 0 deletes them as they are published. */
  readonly outboxRetentionMs: number;
  /** Test hook: the relay starts this long after the app (simulates a crash window between claim and publish). */
  readonly relayStartDelayMs: number;
  /** An order still `Processing` this long after its claim gets its `orders.pastdue` message again. */
  readonly processingStaleAfterMs: number;
  /** A notification still `Sending` this long is put back to `New` (sent again with the same Operation-Id). */
  readonly sendingStaleAfterMs: number;
  readonly sendingMaxRedrives: number;
  /** After retries of `orders.pastdue` are exhausted, the order is claimable again after this delay. */
  readonly requeueDelayMs: number;
}

const schedulerSettings: SettingGroup<SchedulerSettings> = envGroup(
  z
    .object({
      ORDERS_SCHEDULER_ENABLED: envBool(true),
      // Each idle cycle is one indexed query; at 250 ms the two polls add ≈ 0.3 s instead of ≈ 1 s to a due
      // notification's way to ACS (npm run bench: p99 requested send time → accepted 1.1 s instead of 2.7 s).
      ORDERS_PASTDUE_INTERVAL: envDurationMs('250ms', { min: 10 }),
      ORDERS_EMAIL_PUBLISH_INTERVAL: envDurationMs('250ms', { min: 10 }),
      ORDERS_OUTBOX_RELAY_INTERVAL: envDurationMs('200ms', { min: 10 }),
      ORDERS_SWEEP_INTERVAL: envDurationMs('10s', { min: 10 }),
      ORDERS_CLAIM_BATCH_SIZE: envInt(100, { min: 1, max: 10_000 }),
      ORDERS_CLAIM_BATCH_BYTES: envInt(4 * 1024 * 1024, { min: 64 * 1024, max: 64 * 1024 * 1024 }),
      ORDERS_EMAIL_BATCH_SIZE: envInt(1_000, { min: 1, max: 50_000 }),
      ORDERS_EMAIL_BATCH_BYTES: envInt(4 * 1024 * 1024, { min: 64 * 1024, max: 64 * 1024 * 1024 }),
      ORDERS_OUTBOX_BATCH_SIZE: envInt(1_000, { min: 1, max: 50_000 }),
      // See apps/orders/README.md ("Memory"): what the cycles hold at once must fit the 160 MB heap cap.
      ORDERS_OUTBOX_BATCH_BYTES: envInt(4 * 1024 * 1024, { min: 64 * 1024, max: 64 * 1024 * 1024 }),
      ORDERS_OUTBOX_RELAY_CONCURRENCY: envInt(2, { min: 1, max: 32 }),
      ORDERS_OUTBOX_LEASE: envDurationMs('30s', { min: 100 }),
      ORDERS_OUTBOX_RETENTION: envDurationMs('1h', { min: 0 }),
      ORDERS_RELAY_START_DELAY_MS: envDurationMs(0, { min: 0 }),
      ORDERS_PROCESSING_STALE_AFTER: envDurationMs('10m', { min: 1_000 }),
      ORDERS_SENDING_STALE_AFTER: envDurationMs('1h', { min: 1_000 }),
      ORDERS_SENDING_MAX_REDRIVES: envInt(2, { min: 0, max: 100 }),
      ORDERS_REQUEUE_DELAY: envDurationMs('1m', { min: 0 }),
    })
    .transform((env): SchedulerSettings => ({
      enabled: env.ORDERS_SCHEDULER_ENABLED,
      pastDueIntervalMs: env.ORDERS_PASTDUE_INTERVAL,
      emailPublishIntervalMs: env.ORDERS_EMAIL_PUBLISH_INTERVAL,
      outboxRelayIntervalMs: env.ORDERS_OUTBOX_RELAY_INTERVAL,
      sweepIntervalMs: env.ORDERS_SWEEP_INTERVAL,
      orderClaimBatchSize: env.ORDERS_CLAIM_BATCH_SIZE,
      orderClaimBatchBytes: env.ORDERS_CLAIM_BATCH_BYTES,
      emailClaimBatchSize: env.ORDERS_EMAIL_BATCH_SIZE,
      emailClaimBatchBytes: env.ORDERS_EMAIL_BATCH_BYTES,
      outboxBatchSize: env.ORDERS_OUTBOX_BATCH_SIZE,
      outboxBatchBytes: env.ORDERS_OUTBOX_BATCH_BYTES,
      outboxRelayConcurrency: env.ORDERS_OUTBOX_RELAY_CONCURRENCY,
      outboxLeaseMs: env.ORDERS_OUTBOX_LEASE,
      outboxRetentionMs: env.ORDERS_OUTBOX_RETENTION,
      relayStartDelayMs: env.ORDERS_RELAY_START_DELAY_MS,
      processingStaleAfterMs: env.ORDERS_PROCESSING_STALE_AFTER,
      sendingStaleAfterMs: env.ORDERS_SENDING_STALE_AFTER,
      sendingMaxRedrives: env.ORDERS_SENDING_MAX_REDRIVES,
      requeueDelayMs: env.ORDERS_REQUEUE_DELAY,
    })),
);

export interface NotificationSettings {
  readonly fromAddress: string;
  /** Expiry of an email notification = requested send time + this. */
  readonly expiryMs: number;
  /** Unfinished notifications become `Failed_TTL` this long after their expiry. */
  readonly expiryGraceMs: number;
  /** A `Failed_TransientError` notification is sent again no sooner than this (and never during a pause). */
  readonly transientResendDelayMs: number;
  /** NotificationOrder messages carry the recipient list inline up to this many recipients (else `[]`). */
  readonly pastDueInlineRecipients: number;
}

const notificationSettings: SettingGroup<NotificationSettings> = envGroup(
  z
    .object({
      ORDERS_EMAIL_FROM_ADDRESS: envString('noreply@altinn.cloud'),
      ORDERS_NOTIFICATION_EXPIRY: envDurationMs('48h', { min: 1_000 }),
      ORDERS_EXPIRY_GRACE: envDurationMs('10m', { min: 0 }),
      ORDERS_TRANSIENT_RESEND_DELAY: envDurationMs('10s', { min: 0 }),
      ORDERS_PASTDUE_INLINE_RECIPIENTS: envInt(1_000, { min: 0, max: 10_000 }),
    })
    .transform((env): NotificationSettings => ({
      fromAddress: env.ORDERS_EMAIL_FROM_ADDRESS,
      expiryMs: env.ORDERS_NOTIFICATION_EXPIRY,
      expiryGraceMs: env.ORDERS_EXPIRY_GRACE,
      transientResendDelayMs: env.ORDERS_TRANSIENT_RESEND_DELAY,
      pastDueInlineRecipients: env.ORDERS_PASTDUE_INLINE_RECIPIENTS,
    })),
);

export interface ApiSettings {
  /** Absolute base for `Location` and `links` (e.g. `https://platform.example.no`); default: the request's host. */
  readonly publicBaseUrl?: string;
  /** How far in the past a requested send time may lie (clock skew, slow clients). */
  readonly sendTimeGraceMs: number;
  /** Largest accepted request body. */
  readonly bodyLimitBytes: number;
  /** Whether `/docs` and `/docs-json` (the public API's OpenAPI document) are served. */
  readonly docsEnabled: boolean;
  /**
   * Bytes of large order bodies (over 64 KiB) read, validated and stored at once, counted only after the caller's
   * token was verified; a larger body runs alone.
   */
  readonly intakeBytesInFlight: number;
  /** How long a large order waits for room in `intakeBytesInFlight` before it is refused (503, Retry-After). */
  readonly intakeMaxWaitMs: number;
}

const apiSettings: SettingGroup<ApiSettings> = envGroup(
  z
    .object({
      ORDERS_PUBLIC_BASE_URL: envUrl(undefined, { protocols: ['https', 'http'] }).optional(),
      ORDERS_SEND_TIME_GRACE: envDurationMs('5m', { min: 0 }),
      ORDERS_BODY_LIMIT_BYTES: envInt(10 * 1024 * 1024, { min: 1024 }),
      APP_ENV: envEnum(APP_ENVS).optional(),
      NODE_ENV: envEnum(APP_ENVS).optional(),
      // Off in production unless enabled: the document maps the attack surface for anyone who reaches the API.
      ORDERS_API_DOCS_ENABLED: envBool().optional(),
      // See apps/orders/README.md ("Memory"): a 100 000-recipient body (≈ 5 MB) costs ≈ 3× its size while it is
      // handled; 6 MiB takes one of them at a time (a larger body runs alone), a heap budget of 125 MB instead of
      // the 165 MB edge. Peak RSS in the 500 000 benchmark: 261, 272 MB with 10 MiB; 250, 263, 260 MB with 6 MiB.
      ORDERS_INTAKE_BYTES_IN_FLIGHT: envInt(6 * 1024 * 1024, { min: 64 * 1024, max: 1024 * 1024 * 1024 }),
      ORDERS_INTAKE_MAX_WAIT: envDurationMs('60s', { min: 0, max: 600_000 }),
    })
    .transform((env): ApiSettings => ({
      ...(env.ORDERS_PUBLIC_BASE_URL === undefined
        ? {}
        : { publicBaseUrl: env.ORDERS_PUBLIC_BASE_URL.replace(/\/+$/, '') }),
      sendTimeGraceMs: env.ORDERS_SEND_TIME_GRACE,
      bodyLimitBytes: env.ORDERS_BODY_LIMIT_BYTES,
      docsEnabled: env.ORDERS_API_DOCS_ENABLED ?? appEnvOf(env) !== 'production',
      intakeBytesInFlight: env.ORDERS_INTAKE_BYTES_IN_FLIGHT,
      intakeMaxWaitMs: env.ORDERS_INTAKE_MAX_WAIT,
    })),
);

export interface ConsumerSettings {
  /** Messages of one partition handled at once (never two of the same key). */
  readonly perPartitionConcurrency: number;
  /** Most `email.status.updated` messages applied in one transaction. */
  readonly statusBatchSize: number;
  /** Recipients of `orders.pastdue` orders being expanded into notifications at once (a larger order runs alone). */
  readonly expansionRecipientsInFlight: number;
  readonly maxAttempts: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
}

const consumerSettings: SettingGroup<ConsumerSettings> = envGroup(
  z
    .object({
      ORDERS_CONSUMER_PER_PARTITION_CONCURRENCY: envInt(4, { min: 1, max: 100 }),
      ORDERS_STATUS_BATCH_SIZE: envInt(500, { min: 1, max: 10_000 }),
      // One order of the API's largest (100 000 recipients) at a time by default: each holds its recipient list.
      ORDERS_EXPANSION_RECIPIENTS_IN_FLIGHT: envInt(100_000, { min: 1, max: 10_000_000 }),
      ORDERS_RETRY_MAX_ATTEMPTS: envInt(5, { min: 1, max: 100 }),
      ORDERS_RETRY_INITIAL_DELAY: envDurationMs('1s', { min: 0 }),
      ORDERS_RETRY_MAX_DELAY: envDurationMs('5m', { min: 0 }),
    })
    .transform((env): ConsumerSettings => ({
      perPartitionConcurrency: env.ORDERS_CONSUMER_PER_PARTITION_CONCURRENCY,
      statusBatchSize: env.ORDERS_STATUS_BATCH_SIZE,
      expansionRecipientsInFlight: env.ORDERS_EXPANSION_RECIPIENTS_IN_FLIGHT,
      maxAttempts: env.ORDERS_RETRY_MAX_ATTEMPTS,
      retryInitialDelayMs: env.ORDERS_RETRY_INITIAL_DELAY,
      retryMaxDelayMs: env.ORDERS_RETRY_MAX_DELAY,
    })),
);

export interface ConsoleSettings {
  /** email-sender's management listener: its `/status` and `/internal/rate-limit` on the pipeline page. */
  readonly emailSenderManagementUrl: string;
  /** status-poller's management listener: its `/status` on the pipeline page. */
  readonly statusPollerManagementUrl: string;
  /** How long the pipeline page waits for a peer's answer before showing it as unreachable. */
  readonly peerTimeoutMs: number;
  /** How long reading a dead-letter topic may go without progress before the request fails. */
  readonly kafkaReadTimeoutMs: number;
}

/**
 * The operator console (`/console` on the management listener). The peers' URLs default to the management ports
 * `npm start` gives them (apps/<app>/package.json), the same defaults and names as the ops CLI's.
 */
const consoleSettings: SettingGroup<ConsoleSettings> = envGroup(
  z
    .object({
      EMAIL_SENDER_MANAGEMENT_URL: envUrl('http://127.0.0.1:5191', { protocols: ['http', 'https'] }),
      STATUS_POLLER_MANAGEMENT_URL: envUrl('http://127.0.0.1:5192', { protocols: ['http', 'https'] }),
      CONSOLE_PEER_TIMEOUT: envDurationMs('3s', { min: 100 }),
      CONSOLE_KAFKA_READ_TIMEOUT: envDurationMs('15s', { min: 1_000 }),
    })
    .transform((env): ConsoleSettings => ({
      emailSenderManagementUrl: env.EMAIL_SENDER_MANAGEMENT_URL,
      statusPollerManagementUrl: env.STATUS_POLLER_MANAGEMENT_URL,
      peerTimeoutMs: env.CONSOLE_PEER_TIMEOUT,
      kafkaReadTimeoutMs: env.CONSOLE_KAFKA_READ_TIMEOUT,
    })),
);

export interface ProgressSettings {
  /** How often the one poll loop of a watched order reads its counts (shared by all its streams). */
  readonly pollIntervalMs: number;
  /**
   * Index entries one watched order's poll loop reads per second at most: a large order is polled less often
   * (a read counts every notification of the order; 100 000 take ≈ 70 ms of PostgreSQL CPU).
   */
  readonly maxRowsPerSecond: number;
  /** Events a progress stream sends per second at most (the poll loop never runs faster than this allows). */
  readonly maxEventsPerSecond: number;
  /** Final notifications per second are measured over this recent window. */
  readonly rateWindowMs: number;
  /** An SSE comment this often keeps proxies from closing a quiet stream. */
  readonly heartbeatMs: number;
  /** The `retry:` hint: how long a client waits before reconnecting. */
  readonly retryMs: number;
  /** Open progress streams per process; beyond it 503. */
  readonly maxStreams: number;
  /** Open progress streams per organisation (or for all operators together); beyond it 429. */
  readonly maxStreamsPerCaller: number;
  /** A stream is ended after this long (the client reconnects with Last-Event-ID and is authorised again). */
  readonly maxStreamDurationMs: number;
}

const progressSettings: SettingGroup<ProgressSettings> = envGroup(
  z
    .object({
      ORDERS_PROGRESS_POLL_INTERVAL: envDurationMs('500ms', { min: 50, max: 60_000 }),
      ORDERS_PROGRESS_MAX_ROWS_PER_SECOND: envInt(100_000, { min: 1_000, max: 10_000_000 }),
      ORDERS_PROGRESS_MAX_EVENTS_PER_SECOND: envInt(4, { min: 1, max: 20 }),
      ORDERS_PROGRESS_RATE_WINDOW: envDurationMs('20s', { min: 1_000, max: 600_000 }),
      ORDERS_PROGRESS_HEARTBEAT: envDurationMs('15s', { min: 100, max: 300_000 }),
      ORDERS_PROGRESS_RETRY: envDurationMs('3s', { min: 100, max: 600_000 }),
      ORDERS_PROGRESS_MAX_STREAMS: envInt(200, { min: 1, max: 100_000 }),
      ORDERS_PROGRESS_MAX_STREAMS_PER_CALLER: envInt(20, { min: 1, max: 100_000 }),
      ORDERS_PROGRESS_MAX_STREAM_DURATION: envDurationMs('30m', { min: 1_000 }),
    })
    .transform((env): ProgressSettings => ({
      pollIntervalMs: env.ORDERS_PROGRESS_POLL_INTERVAL,
      maxRowsPerSecond: env.ORDERS_PROGRESS_MAX_ROWS_PER_SECOND,
      maxEventsPerSecond: env.ORDERS_PROGRESS_MAX_EVENTS_PER_SECOND,
      rateWindowMs: env.ORDERS_PROGRESS_RATE_WINDOW,
      heartbeatMs: env.ORDERS_PROGRESS_HEARTBEAT,
      retryMs: env.ORDERS_PROGRESS_RETRY,
      maxStreams: env.ORDERS_PROGRESS_MAX_STREAMS,
      maxStreamsPerCaller: env.ORDERS_PROGRESS_MAX_STREAMS_PER_CALLER,
      maxStreamDurationMs: env.ORDERS_PROGRESS_MAX_STREAM_DURATION,
    })),
);

export interface SubscriptionSettings {
  /** Subscriptions one creator may hold. */
  readonly maxPerCreator: number;
  /**
   * Destinations delivered to at once per process (a slow one holds one slot, never the others). Each slot holds a
   * database connection for its round, so it must stay below DATABASE_POOL_SIZE (checked at start-up).
   */
  readonly deliveryConcurrency: number;
  /** Events read per delivery round of one subscription (HTTP sends them in order; Kafka in one request). */
  readonly deliveryBatchSize: number;
  /** How often the delivery loop looks for due events when it found none. */
  readonly deliveryIntervalMs: number;
  /** One delivery (HTTP exchange or Kafka produce) ends within this time. */
  readonly deliveryTimeoutMs: number;
  /** After a failed delivery a destination waits this long × 2^(fails − 1), at most `retryMaxDelayMs`. */
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** Consecutive failed deliveries after which a subscription becomes `failed` (resumable). */
  readonly maxConsecutiveFailures: number;
  /** Undelivered events older than this are dropped (counted in the metrics). */
  readonly eventRetentionMs: number;
  /** Kafka producers to subscribers' clusters kept open at once (least recently used closed beyond it). */
  readonly maxKafkaProducers: number;
  /** A producer to a subscriber's cluster unused this long is closed. */
  readonly kafkaIdleMs: number;
}

/** "Not set": loadOrdersConfig picks 4, or half the database pool when that is smaller. */
const AUTOMATIC_DELIVERY_CONCURRENCY = 0;
const DEFAULT_DELIVERY_CONCURRENCY = 4;

const subscriptionSettings: SettingGroup<SubscriptionSettings> = envGroup(
  z
    .object({
      SUBSCRIPTIONS_MAX_PER_CREATOR: envInt(100, { min: 1, max: 100_000 }),
      SUBSCRIPTIONS_DELIVERY_CONCURRENCY: envInt(undefined, { min: 1, max: 256 }).optional(),
      SUBSCRIPTIONS_DELIVERY_BATCH_SIZE: envInt(500, { min: 1, max: 10_000 }),
      SUBSCRIPTIONS_DELIVERY_INTERVAL: envDurationMs('200ms', { min: 10, max: 60_000 }),
      SUBSCRIPTIONS_DELIVERY_TIMEOUT: envDurationMs('10s', { min: 100, max: 300_000 }),
      SUBSCRIPTIONS_RETRY_INITIAL_DELAY: envDurationMs('1s', { min: 10, max: 3_600_000 }),
      SUBSCRIPTIONS_RETRY_MAX_DELAY: envDurationMs('5m', { min: 10, max: 86_400_000 }),
      SUBSCRIPTIONS_MAX_CONSECUTIVE_FAILURES: envInt(20, { min: 1, max: 10_000 }),
      SUBSCRIPTIONS_EVENT_RETENTION: envDurationMs('7d', { min: 60_000 }),
      SUBSCRIPTIONS_KAFKA_MAX_PRODUCERS: envInt(32, { min: 1, max: 1_000 }),
      SUBSCRIPTIONS_KAFKA_IDLE: envDurationMs('5m', { min: 1_000, max: 86_400_000 }),
    })
    .transform((env): SubscriptionSettings => ({
      maxPerCreator: env.SUBSCRIPTIONS_MAX_PER_CREATOR,
      deliveryConcurrency: env.SUBSCRIPTIONS_DELIVERY_CONCURRENCY ?? AUTOMATIC_DELIVERY_CONCURRENCY,
      deliveryBatchSize: env.SUBSCRIPTIONS_DELIVERY_BATCH_SIZE,
      deliveryIntervalMs: env.SUBSCRIPTIONS_DELIVERY_INTERVAL,
      deliveryTimeoutMs: env.SUBSCRIPTIONS_DELIVERY_TIMEOUT,
      retryInitialDelayMs: env.SUBSCRIPTIONS_RETRY_INITIAL_DELAY,
      retryMaxDelayMs: Math.max(env.SUBSCRIPTIONS_RETRY_MAX_DELAY, env.SUBSCRIPTIONS_RETRY_INITIAL_DELAY),
      maxConsecutiveFailures: env.SUBSCRIPTIONS_MAX_CONSECUTIVE_FAILURES,
      eventRetentionMs: env.SUBSCRIPTIONS_EVENT_RETENTION,
      maxKafkaProducers: env.SUBSCRIPTIONS_KAFKA_MAX_PRODUCERS,
      kafkaIdleMs: env.SUBSCRIPTIONS_KAFKA_IDLE,
    })),
);

export const ordersConfigSchema = z.object({
  env: appEnvSettings,
  /** LOG_LEVEL, LOG_FORMAT, tracing: the same variables and values in every app. */
  observability: observabilitySettings,
  kafka: kafkaSettings('orders'),
  db: databaseSettings,
  http: httpSettings(5090),
  management: managementSettings(5090),
  auth: authSettings,
  contactPoints: contactPointSettings,
  outbound: outboundSettings,
  scheduler: schedulerSettings,
  notifications: notificationSettings,
  api: apiSettings,
  consumer: consumerSettings,
  console: consoleSettings,
  progress: progressSettings,
  subscriptions: subscriptionSettings,
});

export type OrdersConfig = Readonly<z.infer<typeof ordersConfigSchema>>;

/** Reads and validates every setting once; throws ConfigError listing every bad variable. */
export function loadOrdersConfig(env: Record<string, string | undefined> = process.env): OrdersConfig {
  const config = loadConfig(ordersConfigSchema, env);
  // The register is fetched through the outbound guard: a base URL it would refuse every time stops start-up.
  const { source, baseUrl } = config.contactPoints;
  if (source === 'http' && baseUrl !== undefined) {
    const check = new AddressPolicy(config.outbound.allowList).checkUrl(baseUrl);
    if (!check.ok) {
      throw new ConfigError([
        {
          variable: 'CONTACT_POINTS_BASE_URL',
          message: `${check.reason}; name its host or address in OUTBOUND_ALLOW_LIST`,
        },
      ]);
    }
  }
  // Each delivery slot holds a pooled connection while its destination answers: slow destinations must never take
  // every connection the API, the consumers and the scheduler need.
  const halfPool = Math.max(1, Math.floor(config.db.poolSize / 2));
  if (config.subscriptions.deliveryConcurrency === AUTOMATIC_DELIVERY_CONCURRENCY) {
    return {
      ...config,
      subscriptions: {
        ...config.subscriptions,
        deliveryConcurrency: Math.min(DEFAULT_DELIVERY_CONCURRENCY, halfPool),
      },
    };
  }
  if (config.subscriptions.deliveryConcurrency > halfPool) {
    throw new ConfigError([
      {
        variable: 'SUBSCRIPTIONS_DELIVERY_CONCURRENCY',
        message: `must be at most half of DATABASE_POOL_SIZE (${config.db.poolSize}): each delivery slot holds a database connection while its destination answers`,
      },
    ]);
  }
  return config;
}
