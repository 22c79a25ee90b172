import { KafkaRoleClients, type KafkaConnectionOptions } from '@notifications/messaging';
import { InvalidArgumentError } from 'commander';
import { loadOrCreateDevKey, OPERATOR_SCOPE, parseDurationMs, signDevToken } from '@notifications/config';
import { CliError } from './cli-error';
import { loadOpsConfig, type OpsConfig } from '../config/ops.config';
import { InternalApiClient } from '../http/internal-api.client';
import { Output, type CliIo } from './output';

/** What every command needs, created on first use: settings are parsed once, clients are closed at the end. */
export class CommandContext {
  private parsed: OpsConfig | undefined;
  private kafkaClients: KafkaRoleClients | undefined;
  private token: string | undefined;
  /** Set by a command that finished but found problems (e.g. `topics check`). */
  exitCode = 0;

  constructor(
    readonly io: CliIo,
    private readonly env: Record<string, string | undefined>,
    private readonly interrupts?: (listener: () => void) => () => void,
  ) {}

  /** Calls `listener` on Ctrl-C until the returned function is called (never, where nothing can interrupt). */
  onInterrupt(listener: () => void): () => void {
    return this.interrupts?.(listener) ?? (() => undefined);
  }

  get config(): OpsConfig {
    this.parsed ??= loadOpsConfig(this.env);
    return this.parsed;
  }

  get kafka(): KafkaRoleClients {
    // The settings object has the connection's shape (brokers, client id, TLS, per-role SASL).
    const connection: KafkaConnectionOptions = this.config.kafka;
    this.kafkaClients ??= new KafkaRoleClients(connection);
    return this.kafkaClients;
  }

  output(options: { json?: boolean }): Output {
    return new Output(this.io, options.json === true);
  }

  orders(): InternalApiClient {
    return new InternalApiClient(
      'orders',
      this.config.ORDERS_MANAGEMENT_URL,
      this.operatorToken(),
      this.config.OPS_HTTP_TIMEOUT,
    );
  }

  emailSender(): InternalApiClient {
    return new InternalApiClient(
      'email-sender',
      this.config.EMAIL_SENDER_MANAGEMENT_URL,
      this.operatorToken(),
      this.config.OPS_HTTP_TIMEOUT,
    );
  }

  /**
   * OPS_TOKEN, or outside production a short-lived token minted with the development key (the key the apps'
   * management listeners trust on their development defaults).
   */
  private operatorToken(): string {
    if (this.config.OPS_TOKEN !== undefined) return this.config.OPS_TOKEN;
    if (this.config.env === 'production') {
      throw new CliError(
        'OPS_TOKEN is required: an operator token (scope altinn:notifications.operator) from your identity provider',
        2,
      );
    }
    this.token ??= signDevToken(loadOrCreateDevKey(this.config.OPERATOR_AUTH_DEV_KEY_FILE), {
      scopes: [OPERATOR_SCOPE],
      lifetimeMs: 10 * 60_000,
    });
    return this.token;
  }

  async close(): Promise<void> {
    await this.kafkaClients?.close();
  }
}

/** Option parsers: a bad value is a usage error naming the option. */
export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number ≥ 0');
  }
  return Number(value);
}

export function positiveInt(value: string): number {
  const parsed = nonNegativeInt(value);
  if (parsed === 0) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return parsed;
}

export function duration(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms < 0) throw new InvalidArgumentError('expected a duration such as 30s, 5m or 1h');
  return ms;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An order id (a UUID, as orders creates them), lower-cased as orders stores it. */
export function orderIdArgument(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('expected an order id (a UUID)');
  return value.toLowerCase();
}

/** A status subscription's id (a UUID), lower-cased as orders stores it. */
export function subscriptionIdArgument(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('expected a subscription id (a UUID)');
  return value.toLowerCase();
}
