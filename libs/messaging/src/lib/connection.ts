import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { type MessagingLogger } from './logger';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Connection settings. Credentials are per role, as in the reference's Kafka roles: the admin principal may
 * create topics, the producer may write and the consumer may read `altinn.notifications.*`/`altinn.platform.*`.
 */
export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl?: boolean;
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

/**
 * kafkajs logs routine events (pausing a partition, joining a group) at INFO; our runtime pauses partitions as
 * part of normal retry scheduling, so those become debug lines and only kafkajs warnings/errors stay visible.
 */
function logCreatorFor(logger: MessagingLogger): KafkaConfig['logCreator'] {
  return () =>
    ({ level, log, namespace }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...rest } = log;
      const fields = { kafkajs: namespace, ...rest };
      if (level === logLevel.ERROR) logger.error(message, fields);
      else if (level === logLevel.WARN) logger.warn(message, fields);
      else logger.debug(message, fields);
    };
}

export function createKafka(
  options: KafkaConnectionOptions,
  role: KafkaRole,
  logger: MessagingLogger,
): Kafka {
  return new Kafka({
    clientId: `${options.clientId}-${role}`,
    brokers: [...options.brokers],
    ssl: options.ssl ?? false,
    sasl: saslFor(options, role),
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: logLevel.INFO,
    logCreator: logCreatorFor(logger),
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
  });
}
