import { type INestApplication, Logger } from '@nestjs/common';
import { ConfigError, redactConfig, type ObservabilitySettings } from '@notifications/config';
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaUnreachableError,
} from '@notifications/messaging';
import { startKafkaTransport } from '@notifications/messaging/nest';
import { listenWithManagement, type ListeningUrls } from './management/management.module';
import { startObservability, type AppObservability } from './bootstrap';

/** Every app's settings embed the shared log and tracing settings (parsed once, libs/config). */
export interface ServiceSettings {
  readonly observability: ObservabilitySettings;
}

export interface ServiceDefinition<C extends ServiceSettings, A extends INestApplication = INestApplication> {
  /** The service name in logs, metrics and traces. */
  readonly service: string;
  /** Reads and validates the settings; a `ConfigError` lists every bad variable. */
  readonly loadConfig: () => C;
  /** The Nest app, configured but not listening (the same factory the tests use). */
  readonly createApp: (config: C, observability: AppObservability) => Promise<A>;
  readonly http: (config: C) => { readonly port: number; readonly host: string };
  /** Extra start-up lines once the app listens (e.g. the address scripts wait for). */
  readonly started?: (context: { config: C; urls: ListeningUrls; logger: Logger; app: A }) => void;
}

/**
 * What every worker's main.ts does: settings (a bad one → its message on stderr, exit 1, no stack), observability
 * before Nest (JSON logs from the first line, tracing), the app, its Kafka transport, the public and management
 * listeners, and the settings logged with secrets redacted. A Kafka error that says what to check (no broker
 * answered, credentials or ACLs refused) → that one line, exit 1. Any other start-up failure → its stack, exit 1.
 */
export function runService<C extends ServiceSettings, A extends INestApplication = INestApplication>(
  definition: ServiceDefinition<C, A>,
): void {
  start(definition).catch((error: unknown) => {
    console.error(`${definition.service} failed to start:`, describeStartFailure(error));
    process.exit(1);
  });
}

/** The message alone for errors that already say what went wrong and what to check; otherwise the stack. */
export function describeStartFailure(error: unknown): unknown {
  if (
    error instanceof KafkaUnreachableError ||
    error instanceof KafkaAuthenticationError ||
    error instanceof KafkaAuthorizationError
  )
    return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : error;
}

async function start<C extends ServiceSettings, A extends INestApplication>(
  definition: ServiceDefinition<C, A>,
): Promise<void> {
  let config: C;
  let observability: AppObservability;
  try {
    config = definition.loadConfig();
    observability = startObservability(definition.service, config.observability);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await definition.createApp(config, observability);
  await startKafkaTransport(app);
  const urls = await listenWithManagement(app, definition.http(config));
  const logger = new Logger(definition.service);
  logger.log({ msg: 'Configuration', config: redactConfig(config), tracing: observability.tracing.enabled });
  definition.started?.({ config, urls, logger, app });
}
