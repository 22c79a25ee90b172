import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  envBool,
  envDurationMs,
  envEnum,
  envInt,
  envString,
  envValue,
  splitList,
  type EnvParseResult,
} from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';
import { isProductionEnv, rawAppEnvFields } from './app-env.settings';

export const SASL_MECHANISMS = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = Exclude<(typeof SASL_MECHANISMS)[number], 'none'>;

export const KAFKA_COMPRESSIONS = ['none', 'gzip'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

export interface KafkaCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * One user per Kafka role, as in the reference's cluster: ClusterAdmin creates topics, NotificationsProducer
 * writes, NotificationsConsumer reads (`altinn.notifications.*` and `altinn.platform.*`).
 */
export interface KafkaSaslSettings {
  readonly mechanism: SaslMechanism;
  readonly admin: KafkaCredentials;
  readonly producer: KafkaCredentials;
  readonly consumer: KafkaCredentials;
}

/**
 * TLS to the brokers (`KAFKA_SSL=true`). PEM files are read and checked once at start-up, so a wrong path or a
 * certificate that does not match its key stops the app with the variable named instead of failing every
 * connection later. Field names follow Node's `tls.connect` options, except `keyPassword` (redacted in logs).
 */
export interface KafkaTlsSettings {
  /** CA bundle (PEM) that signed the brokers' certificates; Node's default trust store when absent. */
  readonly ca?: string;
  /** Client certificate chain (PEM) for mutual TLS; always together with `key`. */
  readonly cert?: string;
  /** Client private key (PEM). */
  readonly key?: string;
  /** Passphrase of an encrypted `key`. */
  readonly keyPassword?: string;
  /** Name to verify the brokers' certificates against (and to send as SNI) instead of each broker's host. */
  readonly servername?: string;
  /** `false` accepts any broker certificate: development only. */
  readonly rejectUnauthorized: boolean;
}

export interface KafkaTopicSettings {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly retentionMs: number;
}

export interface KafkaSettings {
  readonly brokers: string[];
  readonly clientId: string;
  /** `false` for plaintext, or the TLS settings (`KAFKA_SSL=true`). */
  readonly ssl: false | KafkaTlsSettings;
  /** Absent when `KAFKA_SASL_MECHANISM` is `none`. */
  readonly sasl?: KafkaSaslSettings;
  readonly topics: KafkaTopicSettings;
  readonly compression: KafkaCompression;
  /**
   * Largest produce request the producer builds (records + one batch header); keep it under the broker's
   * `message.max.bytes` and every topic's `max.message.bytes` (default 1 048 588).
   */
  readonly maxRequestBytes: number;
  /** Partitions handled concurrently by one consumer. */
  readonly consumerConcurrency: number;
  /** kafkajs `maxBytesPerPartition`: the most a fetch returns per partition (at least one whole record batch). */
  readonly fetchMaxBytesPerPartition: number;
  /** Appended as `.<suffix>` to every topic and consumer group name (unset in production). */
  readonly topicSuffix?: string;
  readonly sessionTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

function isHostPort(entry: string): boolean {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = entry.slice(0, colon);
  const port = entry.slice(colon + 1);
  return HOST.test(host) && /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535;
}

function parseBrokers(raw: string): EnvParseResult<string[]> {
  const brokers = splitList(raw);
  return brokers.length > 0 && brokers.every(isHostPort)
    ? { ok: true, value: brokers }
    : { ok: false, expected: 'host:port list' };
}

const ROLES = ['admin', 'producer', 'consumer'] as const;
type Role = (typeof ROLES)[number];

const roleVariables = (role: Role) =>
  ({
    username: `KAFKA_${role.toUpperCase()}_USERNAME`,
    password: `KAFKA_${role.toUpperCase()}_PASSWORD`,
  }) as const;
const SHARED = { username: 'KAFKA_USERNAME', password: 'KAFKA_PASSWORD' } as const;

type CredentialEnv = Readonly<Record<string, unknown>>;
type Resolved = { readonly credentials: KafkaCredentials } | { readonly missing: readonly ConfigIssue[] };
interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

/**
 * A role uses its own pair when either of its variables is set (then both must be), otherwise the shared
 * KAFKA_USERNAME/KAFKA_PASSWORD pair. Mixing a role's username with the shared password is treated as a mistake.
 */
function resolveCredentials(env: CredentialEnv, role: Role, mechanism: SaslMechanism): Resolved {
  const own = roleVariables(role);
  const text = (name: string) => (typeof env[name] === 'string' ? (env[name] as string) : undefined);
  const pick = (names: { username: string; password: string }) => ({
    username: text(names.username),
    password: text(names.password),
  });
  const pairIssues = (names: { username: string; password: string }, pair: ReturnType<typeof pick>) => [
    ...(pair.username === undefined
      ? [{ variable: names.username, message: `required when ${names.password} is set` }]
      : []),
    ...(pair.password === undefined
      ? [{ variable: names.password, message: `required when ${names.username} is set` }]
      : []),
  ];

  const ownPair = pick(own);
  if (ownPair.username !== undefined || ownPair.password !== undefined) {
    return ownPair.username !== undefined && ownPair.password !== undefined
      ? { credentials: { username: ownPair.username, password: ownPair.password } }
      : { missing: pairIssues(own, ownPair) };
  }
  const sharedPair = pick(SHARED);
  if (sharedPair.username !== undefined && sharedPair.password !== undefined) {
    return { credentials: { username: sharedPair.username, password: sharedPair.password } };
  }
  if (sharedPair.username !== undefined || sharedPair.password !== undefined) {
    return { missing: pairIssues(SHARED, sharedPair) };
  }
  const message = `required when KAFKA_SASL_MECHANISM is ${mechanism} (or set KAFKA_USERNAME and KAFKA_PASSWORD for all roles)`;
  return {
    missing: [
      { variable: own.username, message },
      { variable: own.password, message },
    ],
  };
}

const TLS_VARIABLES = [
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SSL_KEY_PASSWORD',
  'KAFKA_SSL_SERVERNAME',
  'KAFKA_SSL_REJECT_UNAUTHORIZED',
] as const;

/** A file's text, or why it cannot be read (the variable is named by the caller's issue path). */
function readText(file: string): EnvParseResult<string> {
  try {
    return { ok: true, value: readFileSync(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : `cannot read it (${code ?? String(error)})`;
    return { ok: false, expected: `a readable PEM file (${reason})` };
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** One or more PEM certificates, each parseable (a CA bundle or a client certificate chain). */
function pemCertificates(raw: string): EnvParseResult<string> {
  const text = readText(raw);
  if (!text.ok) return text;
  const blocks = text.value.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return { ok: false, expected: 'a PEM file with at least one CERTIFICATE block' };
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return { ok: false, expected: `a PEM file of valid certificates (certificate ${index + 1} is not)` };
    }
  }
  return { ok: true, value: text.value };
}

function pemPrivateKey(raw: string): EnvParseResult<string> {
  const text = readText(raw);
  if (!text.ok) return text;
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text.value)
    ? text
    : { ok: false, expected: 'a PEM file with a PRIVATE KEY block' };
}

/** Checks what needs two files (and the passphrase): the key opens, and it belongs to the certificate. */
function keyPairIssue(cert: string, key: string, passphrase: string | undefined): ConfigIssue | undefined {
  let privateKey;
  try {
    privateKey = createPrivateKey({ key, ...(passphrase === undefined ? {} : { passphrase }) });
  } catch {
    return passphrase === undefined
      ? {
          variable: 'KAFKA_SSL_KEY_FILE',
          message: 'the private key cannot be read (encrypted? then set KAFKA_SSL_KEY_PASSWORD)',
        }
      : { variable: 'KAFKA_SSL_KEY_PASSWORD', message: 'does not decrypt the key in KAFKA_SSL_KEY_FILE' };
  }
  const [leaf] = cert.match(PEM_CERTIFICATE) ?? [];
  if (leaf !== undefined && !new X509Certificate(leaf).checkPrivateKey(privateKey)) {
    return {
      variable: 'KAFKA_SSL_KEY_FILE',
      message: 'the key does not belong to the first certificate in KAFKA_SSL_CERT_FILE',
    };
  }
  return undefined;
}

interface TlsEnv {
  readonly KAFKA_SSL?: unknown;
  readonly KAFKA_SSL_CA_FILE?: unknown;
  readonly KAFKA_SSL_CERT_FILE?: unknown;
  readonly KAFKA_SSL_KEY_FILE?: unknown;
  readonly KAFKA_SSL_KEY_PASSWORD?: unknown;
  readonly KAFKA_SSL_SERVERNAME?: unknown;
  readonly KAFKA_SSL_REJECT_UNAUTHORIZED?: unknown;
}

/** Problems that involve more than one TLS variable (each variable on its own is checked by its schema). */
function tlsIssues(env: TlsEnv): ConfigIssue[] {
  if (env.KAFKA_SSL !== true) {
    // Certificates configured but TLS off would silently send credentials in plaintext.
    if (env.KAFKA_SSL !== false) return [];
    return TLS_VARIABLES.filter((name) => env[name] !== undefined).map((variable) => ({
      variable,
      message: 'set, but KAFKA_SSL is false (set KAFKA_SSL=true to use TLS)',
    }));
  }
  const cert = env.KAFKA_SSL_CERT_FILE;
  const key = env.KAFKA_SSL_KEY_FILE;
  if ((cert === undefined) !== (key === undefined)) {
    return [
      cert === undefined
        ? { variable: 'KAFKA_SSL_CERT_FILE', message: 'required when KAFKA_SSL_KEY_FILE is set (mutual TLS)' }
        : {
            variable: 'KAFKA_SSL_KEY_FILE',
            message: 'required when KAFKA_SSL_CERT_FILE is set (mutual TLS)',
          },
    ];
  }
  if (env.KAFKA_SSL_KEY_PASSWORD !== undefined && key === undefined) {
    return [{ variable: 'KAFKA_SSL_KEY_PASSWORD', message: 'set, but KAFKA_SSL_KEY_FILE is not' }];
  }
  // Only when both files parsed (otherwise their own issues are already reported).
  if (typeof cert === 'string' && typeof key === 'string') {
    const password = env.KAFKA_SSL_KEY_PASSWORD;
    const issue = keyPairIssue(cert, key, typeof password === 'string' ? password : undefined);
    if (issue) return [issue];
  }
  return [];
}

function tlsSettings(env: TlsEnv): KafkaTlsSettings {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const ca = text(env.KAFKA_SSL_CA_FILE);
  const cert = text(env.KAFKA_SSL_CERT_FILE);
  const key = text(env.KAFKA_SSL_KEY_FILE);
  const keyPassword = text(env.KAFKA_SSL_KEY_PASSWORD);
  const servername = text(env.KAFKA_SSL_SERVERNAME);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(keyPassword === undefined ? {} : { keyPassword }),
    ...(servername === undefined ? {} : { servername }),
    rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED !== false,
  };
}

interface ProductionEnv {
  readonly APP_ENV?: unknown;
  readonly NODE_ENV?: unknown;
  readonly KAFKA_SSL?: unknown;
  readonly KAFKA_TOPIC_REPLICATION_FACTOR?: unknown;
  readonly KAFKA_ALLOW_PLAINTEXT_IN_PRODUCTION?: unknown;
  readonly KAFKA_ALLOW_REPLICATION_FACTOR_1_IN_PRODUCTION?: unknown;
}

/**
 * What production refuses unless explicitly allowed: plaintext to the brokers (credentials and personal data on
 * the wire) and topics with a single replica (one broker lost = messages lost; acks=all promises nothing then).
 * The development defaults (KAFKA_SSL=false, replication factor 1) are exactly these, so a production deployment
 * that forgot to set them stops here instead of running unsafely.
 */
function productionIssues(env: ProductionEnv): ConfigIssue[] {
  if (!isProductionEnv(env)) return [];
  const issues: ConfigIssue[] = [];
  if (env.KAFKA_SSL === false && env.KAFKA_ALLOW_PLAINTEXT_IN_PRODUCTION !== true) {
    issues.push({
      variable: 'KAFKA_SSL',
      message:
        'plaintext Kafka is refused in production: set KAFKA_SSL=true (or KAFKA_ALLOW_PLAINTEXT_IN_PRODUCTION=true ' +
        'when the network itself is encrypted)',
    });
  }
  if (
    env.KAFKA_TOPIC_REPLICATION_FACTOR === 1 &&
    env.KAFKA_ALLOW_REPLICATION_FACTOR_1_IN_PRODUCTION !== true
  ) {
    issues.push({
      variable: 'KAFKA_TOPIC_REPLICATION_FACTOR',
      message:
        'replication factor 1 is refused in production (one broker lost loses messages): set 3 (or ' +
        'KAFKA_ALLOW_REPLICATION_FACTOR_1_IN_PRODUCTION=true for a single-broker installation)',
    });
  }
  return issues;
}

/** Defaults an app sets for itself; the variables still override them. */
export interface KafkaSettingDefaults {
  /** KAFKA_FETCH_MAX_BYTES_PER_PARTITION when unset: kafkajs' own 1 MiB unless the app says otherwise. */
  readonly fetchMaxBytesPerPartition?: number;
}

// kafkajs' default `maxBytesPerPartition`.
const KAFKAJS_FETCH_MAX_BYTES_PER_PARTITION = 1_048_576;

/**
 * Kafka settings of one app. `appName` gives the default client id (`notifications-<appName>`).
 * Broker credentials are only read (and then required) when a SASL mechanism is set.
 */
export function kafkaSettings(
  appName: string,
  defaults: KafkaSettingDefaults = {},
): SettingGroup<KafkaSettings> {
  if (!/^[a-z][a-z0-9-]*$/.test(appName)) throw new TypeError(`kafkaSettings: invalid app name "${appName}"`);
  return envGroup(
    z
      .object({
        KAFKA_BROKERS: envValue(parseBrokers, ['127.0.0.1:9092']),
        KAFKA_CLIENT_ID: envString(`notifications-${appName}`),
        KAFKA_SSL: envBool(false),
        // File variables hold paths; the parsed values are the files' PEM text.
        KAFKA_SSL_CA_FILE: envValue(pemCertificates).optional(),
        KAFKA_SSL_CERT_FILE: envValue(pemCertificates).optional(),
        KAFKA_SSL_KEY_FILE: envValue(pemPrivateKey).optional(),
        KAFKA_SSL_KEY_PASSWORD: z.string().optional(),
        KAFKA_SSL_SERVERNAME: envValue((raw): EnvParseResult<string> =>
          HOST.test(raw) ? { ok: true, value: raw } : { ok: false, expected: 'a host name' },
        ).optional(),
        KAFKA_SSL_REJECT_UNAUTHORIZED: envBool().optional(),
        KAFKA_SASL_MECHANISM: envEnum(SASL_MECHANISMS, 'none'),
        KAFKA_USERNAME: z.string().optional(),
        KAFKA_PASSWORD: z.string().optional(),
        KAFKA_ADMIN_USERNAME: z.string().optional(),
        KAFKA_ADMIN_PASSWORD: z.string().optional(),
        KAFKA_PRODUCER_USERNAME: z.string().optional(),
        KAFKA_PRODUCER_PASSWORD: z.string().optional(),
        KAFKA_CONSUMER_USERNAME: z.string().optional(),
        KAFKA_CONSUMER_PASSWORD: z.string().optional(),
        KAFKA_TOPIC_PARTITIONS: envInt(6, { min: 1 }),
        KAFKA_TOPIC_REPLICATION_FACTOR: envInt(1, { min: 1 }),
        // 7 days as in the reference's test environments (its production keeps messages 365 days).
        KAFKA_TOPIC_RETENTION_MS: envDurationMs('7d', { min: 1 }),
        KAFKA_COMPRESSION: envEnum(KAFKA_COMPRESSIONS, 'none'),
        // Under the broker's default message.max.bytes (1 048 588), with room for the size estimate's slack.
        KAFKA_MAX_REQUEST_BYTES: envInt(1_000_000, { min: 16_384, max: 100 * 1024 * 1024 }),
        KAFKA_CONSUMER_CONCURRENCY: envInt(3, { min: 1 }),
        // A fetch stays in memory, decoded, until every batch of it is handled.
        KAFKA_FETCH_MAX_BYTES_PER_PARTITION: envInt(
          defaults.fetchMaxBytesPerPartition ?? KAFKAJS_FETCH_MAX_BYTES_PER_PARTITION,
          { min: 1_024, max: 100 * 1024 * 1024 },
        ),
        KAFKA_SESSION_TIMEOUT_MS: envDurationMs('30s', { min: 1 }),
        KAFKA_SHUTDOWN_TIMEOUT_MS: envDurationMs('20s', { min: 0 }),
        // Appended to every topic and consumer group: isolates a deployment (an end-to-end run, a benchmark, a
        // second environment) on a shared broker while keeping the altinn.notifications. ACL prefix.
        // Production refuses plaintext and unreplicated topics unless these say it is meant (productionIssues).
        KAFKA_ALLOW_PLAINTEXT_IN_PRODUCTION: envBool(false),
        KAFKA_ALLOW_REPLICATION_FACTOR_1_IN_PRODUCTION: envBool(false),
        ...rawAppEnvFields,
        KAFKA_TOPIC_SUFFIX: envValue((raw): EnvParseResult<string> =>
          /^[A-Za-z0-9_-]{1,60}$/.test(raw)
            ? { ok: true, value: raw }
            : { ok: false, expected: 'letters, digits, _ and - (at most 60)' },
        ).optional(),
      })
      .superRefine(
        (env, ctx) => {
          for (const { variable, message } of [...tlsIssues(env), ...productionIssues(env)]) {
            ctx.addIssue({ code: 'custom', path: [variable], message });
          }
          const mechanism = env.KAFKA_SASL_MECHANISM;
          // Other fields may have failed already (`when` below); a failed mechanism is not a string here.
          if (typeof mechanism !== 'string' || mechanism === 'none') return;
          const seen = new Set<string>();
          for (const role of ROLES) {
            const resolved = resolveCredentials(env, role, mechanism);
            if (!('missing' in resolved)) continue;
            for (const { variable, message } of resolved.missing) {
              if (seen.has(variable)) continue;
              seen.add(variable);
              ctx.addIssue({ code: 'custom', path: [variable], message });
            }
          }
        },
        // Run even when other variables are bad, so that one start-up lists every problem.
        { when: () => true },
      )
      .transform((env): KafkaSettings => {
        const mechanism = env.KAFKA_SASL_MECHANISM;
        const credentials = (role: Role): KafkaCredentials => {
          const resolved = resolveCredentials(env, role, mechanism as SaslMechanism);
          // Unreachable: the refinement above reported every missing credential and stopped the parse.
          if ('missing' in resolved) throw new Error(`Kafka credentials for ${role} missing`);
          return resolved.credentials;
        };
        return {
          brokers: env.KAFKA_BROKERS,
          clientId: env.KAFKA_CLIENT_ID,
          ssl: env.KAFKA_SSL ? tlsSettings(env) : false,
          ...(mechanism === 'none'
            ? {}
            : {
                sasl: {
                  mechanism,
                  admin: credentials('admin'),
                  producer: credentials('producer'),
                  consumer: credentials('consumer'),
                },
              }),
          topics: {
            partitions: env.KAFKA_TOPIC_PARTITIONS,
            replicationFactor: env.KAFKA_TOPIC_REPLICATION_FACTOR,
            retentionMs: env.KAFKA_TOPIC_RETENTION_MS,
          },
          compression: env.KAFKA_COMPRESSION,
          maxRequestBytes: env.KAFKA_MAX_REQUEST_BYTES,
          consumerConcurrency: env.KAFKA_CONSUMER_CONCURRENCY,
          fetchMaxBytesPerPartition: env.KAFKA_FETCH_MAX_BYTES_PER_PARTITION,
          sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
          shutdownTimeoutMs: env.KAFKA_SHUTDOWN_TIMEOUT_MS,
          ...(env.KAFKA_TOPIC_SUFFIX === undefined ? {} : { topicSuffix: env.KAFKA_TOPIC_SUFFIX }),
        };
      }),
  );
}
