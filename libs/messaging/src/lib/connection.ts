import { type ConnectionOptions } from 'node:tls';
import {
  Kafka,
  logLevel,
  type Admin,
  type AdminConfig,
  type Consumer,
  type ConsumerConfig,
  type KafkaConfig,
  type LogEntry,
  type Producer,
  type ProducerConfig,
  type SASLOptions,
} from 'kafkajs';
import { type KafkajsLogEntry, kafkajsLogLevel } from './kafkajs-log-level';
import { correctKafkajsRequestQueue } from './kafkajs-request-queue';
import { type MessagingLogger } from './logger';

// Every Kafka client of the apps is made here: the idle 1 ms timer of kafkajs' request queue goes first.
correctKafkajsRequestQueue();

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaCredentials {
  readonly username: string;
  readonly password: string;
}

/** TLS to the brokers; PEM text, not file names (`@notifications/config` reads and checks the files). */
export interface KafkaTlsOptions {
  /** CA bundle that signed the brokers' certificates; Node's default trust store when absent. */
  readonly ca?: string;
  /** Client certificate chain for mutual TLS (with `key`). */
  readonly cert?: string;
  readonly key?: string;
  /** Passphrase of an encrypted `key`. */
  readonly keyPassword?: string;
  /** Name the brokers' certificates are verified against (and the SNI sent) instead of each broker's host. */
  readonly servername?: string;
  /** Default `true`; `false` accepts any broker certificate (development only). */
  readonly rejectUnauthorized?: boolean;
}

/**
 * Connection settings. Credentials are per role, as in the reference's Kafka roles: the admin principal may
 * create topics, the producer may write and the consumer may read `altinn.notifications.*`/`altinn.platform.*`.
 */
export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** `true` = TLS with Node's defaults; an object configures it. */
  readonly ssl?: boolean | KafkaTlsOptions;
  readonly sasl?: {
    readonly mechanism: SaslMechanism;
    readonly admin: KafkaCredentials;
    readonly producer: KafkaCredentials;
    readonly consumer: KafkaCredentials;
  };
  /** How long to wait for a broker connection before failing (ms). */
  readonly connectionTimeoutMs?: number;
  /** How long one request may take (ms). */
  readonly requestTimeoutMs?: number;
}

export type KafkaRole = 'admin' | 'producer' | 'consumer';

function saslFor(options: KafkaConnectionOptions, role: KafkaRole): SASLOptions | undefined {
  if (!options.sasl) return undefined;
  const { username, password } = options.sasl[role];
  switch (options.sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** kafkajs hands this to `tls.connect` after its own `{ host, port, servername: host }`, so ours win. */
export function tlsFor(ssl: KafkaConnectionOptions['ssl']): boolean | ConnectionOptions {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl ?? false;
  return {
    ...(ssl.ca === undefined ? {} : { ca: ssl.ca }),
    ...(ssl.cert === undefined ? {} : { cert: ssl.cert }),
    ...(ssl.key === undefined ? {} : { key: ssl.key }),
    ...(ssl.keyPassword === undefined ? {} : { passphrase: ssl.keyPassword }),
    ...(ssl.servername === undefined ? {} : { servername: ssl.servername }),
    rejectUnauthorized: ssl.rejectUnauthorized ?? true,
  };
}

/** Who a client is, for error messages (never the password). */
export interface KafkaPrincipal {
  readonly role: KafkaRole;
  /** Absent without SASL. */
  readonly username?: string;
  readonly mechanism?: SaslMechanism;
  readonly brokers: readonly string[];
}

function describePrincipal(principal: KafkaPrincipal): string {
  return principal.username === undefined
    ? `the ${principal.role} client (no SASL)`
    : `user "${principal.username}" (${principal.role} role)`;
}

/**
 * The broker refused the credentials. Not retried: a wrong password does not become right, and kafkajs would
 * otherwise leave the app to retry (or hang in) connecting; the message names the user, role and mechanism.
 */
export class KafkaAuthenticationError extends Error {
  override readonly name = 'KafkaAuthenticationError';

  constructor(
    readonly principal: KafkaPrincipal,
    cause: unknown,
  ) {
    super(
      `Kafka authentication failed for user "${principal.username ?? '(none)'}" ` +
        `(${principal.role} role, SASL ${principal.mechanism?.toUpperCase() ?? 'none'}) at ` +
        `${principal.brokers.join(',')}: check that role's username and password` +
        ` (broker said: ${rootMessage(cause)})`,
      { cause },
    );
  }
}

/** The broker's ACLs do not allow this principal the operation (e.g. writing outside its topic prefixes). */
export class KafkaAuthorizationError extends Error {
  override readonly name = 'KafkaAuthorizationError';

  constructor(
    readonly principal: KafkaPrincipal,
    /** The Kafka error code, e.g. `TOPIC_AUTHORIZATION_FAILED`. */
    readonly code: string,
    readonly operation: string,
    cause: unknown,
  ) {
    super(
      `Kafka authorization failed: ${describePrincipal(principal)} may not ${operation} (${code}); ` +
        'the cluster operator grants ACLs per topic prefix (see docs/security.md)',
      { cause },
    );
  }
}

/**
 * A client's connect reached no broker (refused, timed out, or a TLS handshake that failed: kafkajs treats all as
 * connection errors): kafkajs' own error says only "Connection error: connect ECONNREFUSED" after its retries, so the
 * start that fails says which brokers it tried and what to check.
 */
export class KafkaUnreachableError extends Error {
  override readonly name = 'KafkaUnreachableError';

  constructor(
    readonly principal: KafkaPrincipal,
    cause: unknown,
  ) {
    super(
      `Kafka unreachable: the ${principal.role} client could not connect to ${principal.brokers.join(',')} ` +
        `(${rootMessage(cause)}); check that the brokers run, that KAFKA_BROKERS names them and, with TLS, the ` +
        'KAFKA_SSL_* settings (locally: `npm run infra:status`, `npm run infra:up`)',
      { cause },
    );
  }
}

interface ErrorLike {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** The error and everything it wraps (kafkajs nests causes and aggregates per-topic errors). */
function* errorTree(error: unknown, depth = 0): Generator<ErrorLike> {
  if (typeof error !== 'object' || error === null || depth > 8) return;
  const node = error as ErrorLike;
  yield node;
  yield* errorTree(node.cause, depth + 1);
  if (Array.isArray(node.errors)) for (const inner of node.errors) yield* errorTree(inner, depth + 1);
}

function rootMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (const node of errorTree(error)) if (typeof node.message === 'string') message = node.message;
  return message;
}

function operationText(method: string, args: readonly unknown[]): string {
  const [first] = args;
  const record = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
  const names = (value: unknown): string[] =>
    Array.isArray(value)
      ? value.flatMap((item) =>
          typeof item === 'string'
            ? [item]
            : typeof item === 'object' &&
                item !== null &&
                typeof (item as { topic?: unknown }).topic === 'string'
              ? [(item as { topic: string }).topic]
              : [],
        )
      : typeof value === 'string'
        ? [value]
        : [];
  const topics = [
    ...new Set([...names(record['topic']), ...names(record['topicMessages']), ...names(record['topics'])]),
  ];
  const on = topics.length > 0 ? ` on ${topics.join(', ')}` : '';
  switch (method) {
    case 'send':
    case 'sendBatch':
      return `write${on}`;
    case 'createTopics':
      return `create topics${on}`;
    case 'subscribe':
      return `read${on}`;
    default:
      return `${method}${on}`;
  }
}

/** A kafkajs error as one of ours when it is about credentials, ACLs or a connect that found no broker. */
export function explainKafkaError(
  error: unknown,
  principal: KafkaPrincipal,
  method = 'connect',
  args: readonly unknown[] = [],
): unknown {
  if (
    error instanceof KafkaAuthenticationError ||
    error instanceof KafkaAuthorizationError ||
    error instanceof KafkaUnreachableError
  )
    return error;
  const nodes = [...errorTree(error)];
  for (const node of nodes) {
    if (node.name === 'KafkaJSSASLAuthenticationError' || node.type === 'SASL_AUTHENTICATION_FAILED') {
      return new KafkaAuthenticationError(principal, error);
    }
    if (typeof node.type === 'string' && node.type.endsWith('_AUTHORIZATION_FAILED')) {
      return new KafkaAuthorizationError(principal, node.type, operationText(method, args), error);
    }
  }
  // Only a failed connect: a send or a fetch that loses its broker later is an outage the caller handles
  // (infrastructureOutageOf reads kafkajs' error names in the cause chain, which this wrapper keeps).
  if (method === 'connect' && nodes.some((node) => node.name === 'KafkaJSConnectionError')) {
    return new KafkaUnreachableError(principal, error);
  }
  return error;
}

/**
 * Wraps every promise-returning method of a kafkajs client so that authentication and authorization failures
 * surface as {@link KafkaAuthenticationError}/{@link KafkaAuthorizationError}, and a connect that reaches no broker
 * as {@link KafkaUnreachableError}. kafkajs clients are plain objects
 * of closures, so a shallow copy keeps their behaviour.
 */
function withExplainedErrors<T extends object>(client: T, principal: KafkaPrincipal): T {
  const wrapped: Record<string, unknown> = { ...(client as Record<string, unknown>) };
  for (const [method, value] of Object.entries(client)) {
    if (typeof value !== 'function') continue;
    const original = value as (...args: unknown[]) => unknown;
    wrapped[method] = (...args: unknown[]): unknown => {
      const result = original(...args);
      return result instanceof Promise
        ? result.catch((error: unknown) => {
            throw explainKafkaError(error, principal, method, args);
          })
        : result;
    };
  }
  return wrapped as T;
}

/** A kafkajs client for one role whose producers, consumers and admins explain credential and ACL errors. */
class RoleKafka extends Kafka {
  constructor(
    config: KafkaConfig,
    private readonly principal: KafkaPrincipal,
  ) {
    super(config);
  }

  override producer(config?: ProducerConfig): Producer {
    return withExplainedErrors(super.producer(config), this.principal);
  }

  override consumer(config: ConsumerConfig): Consumer {
    return withExplainedErrors(super.consumer(config), this.principal);
  }

  override admin(config?: AdminConfig): Admin {
    return withExplainedErrors(super.admin(config), this.principal);
  }
}

const KAFKAJS_LEVELS: Readonly<Record<number, KafkajsLogEntry['level']>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs' entries at the level {@link kafkajsLogLevel} gives them (retried attempts are no errors). */
function logCreatorFor(logger: MessagingLogger): KafkaConfig['logCreator'] {
  return () =>
    ({ level, log, namespace }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...rest } = log;
      const fields = { kafkajs: namespace, ...rest };
      const ours = kafkajsLogLevel({
        level: KAFKAJS_LEVELS[level] ?? 'debug',
        namespace,
        message,
        fields: rest,
      });
      logger[ours](message, fields);
    };
}

/**
 * The kafkajs client of one role: its own client id suffix and its own SASL principal (admin for topic
 * provisioning, producer for every publish incl. retries and dead letters, consumer for consumer groups).
 */
export function createKafka(
  options: KafkaConnectionOptions,
  role: KafkaRole,
  logger: MessagingLogger,
): Kafka {
  const sasl = saslFor(options, role);
  const principal: KafkaPrincipal = {
    role,
    brokers: options.brokers,
    ...(options.sasl ? { username: options.sasl[role].username, mechanism: options.sasl.mechanism } : {}),
  };
  return new RoleKafka(
    {
      clientId: `${options.clientId}-${role}`,
      brokers: [...options.brokers],
      ssl: tlsFor(options.ssl),
      ...(sasl === undefined ? {} : { sasl }),
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      logLevel: logLevel.INFO,
      logCreator: logCreatorFor(logger),
      retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    },
    principal,
  );
}
