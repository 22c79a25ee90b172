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

export interface KafkaTopicSettings {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly retentionMs: number;
}

export interface KafkaSettings {
  readonly brokers: string[];
  readonly clientId: string;
  readonly ssl: boolean;
  /** Absent when `KAFKA_SASL_MECHANISM` is `none`. */
  readonly sasl?: KafkaSaslSettings;
  readonly topics: KafkaTopicSettings;
  readonly compression: KafkaCompression;
  /** Partitions handled concurrently by one consumer. */
  readonly consumerConcurrency: number;
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

/**
 * Kafka settings of one app. `appName` gives the default client id (`notifications-<appName>`).
 * Broker credentials are only read (and then required) when a SASL mechanism is set.
 */
export function kafkaSettings(appName: string): SettingGroup<KafkaSettings> {
  if (!/^[a-z][a-z0-9-]*$/.test(appName)) throw new TypeError(`kafkaSettings: invalid app name "${appName}"`);
  return envGroup(
    z
      .object({
        KAFKA_BROKERS: envValue(parseBrokers, ['127.0.0.1:9092']),
        KAFKA_CLIENT_ID: envString(`notifications-${appName}`),
        KAFKA_SSL: envBool(false),
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
        KAFKA_CONSUMER_CONCURRENCY: envInt(3, { min: 1 }),
        KAFKA_SESSION_TIMEOUT_MS: envDurationMs('30s', { min: 1 }),
        KAFKA_SHUTDOWN_TIMEOUT_MS: envDurationMs('20s', { min: 0 }),
        // Appended to every topic and consumer group: isolates a deployment (an end-to-end run, a benchmark, a
        // second environment) on a shared broker while keeping the altinn.notifications. ACL prefix.
        KAFKA_TOPIC_SUFFIX: envValue((raw): EnvParseResult<string> =>
          /^[A-Za-z0-9_-]{1,60}$/.test(raw)
            ? { ok: true, value: raw }
            : { ok: false, expected: 'letters, digits, _ and - (at most 60)' },
        ).optional(),
      })
      .superRefine(
        (env, ctx) => {
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
          ssl: env.KAFKA_SSL,
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
          consumerConcurrency: env.KAFKA_CONSUMER_CONCURRENCY,
          sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
          shutdownTimeoutMs: env.KAFKA_SHUTDOWN_TIMEOUT_MS,
          ...(env.KAFKA_TOPIC_SUFFIX === undefined ? {} : { topicSuffix: env.KAFKA_TOPIC_SUFFIX }),
        };
      }),
  );
}
