import { type LoggerService } from '@nestjs/common';
import {
  loadConfig,
  observabilitySettings,
  type Env,
  type ObservabilitySettings,
} from '@notifications/config';
import { type Logger as PinoRootLogger } from 'pino';
import { createLogger } from '../lib/logging/create-logger';
import { startTracing, type Tracing } from '../lib/tracing/tracing';
import { createNestLogger } from './nest-logger';
import { type ObservabilityModuleOptions } from './observability-options';

export interface AppObservability {
  readonly settings: ObservabilitySettings;
  /** The app's root pino logger. */
  readonly logger: PinoRootLogger;
  /** Pass to `NestFactory.create` as `logger`. */
  readonly nestLogger: LoggerService;
  readonly tracing: Tracing;
  /** What the app module passes to `ObservabilityModule.forRoot` (flushes spans on shutdown). */
  readonly moduleOptions: ObservabilityModuleOptions;
}

/**
 * What every `main.ts` does first, before Nest exists: take the LOG_* and OTEL_* settings (the app's config
 * embeds `observabilitySettings`, so they were parsed with the rest of it; an env is parsed here), start tracing
 * (when configured), and build the JSON logger Nest and the app's modules will share.
 */
export function startObservability(
  service: string,
  source: ObservabilitySettings | Env = process.env,
): AppObservability {
  const settings = isSettings(source) ? source : loadConfig(observabilitySettings, source);
  const tracing = startTracing({ service, ...settings.tracing });
  const logger = createLogger({ service, ...settings.logging });
  return {
    settings,
    logger,
    tracing,
    nestLogger: createNestLogger(logger, settings.logging.httpRequests),
    moduleOptions: {
      service,
      logger,
      httpRequests: settings.logging.httpRequests,
      onShutdown: () => tracing.shutdown(),
    },
  };
}

function isSettings(source: ObservabilitySettings | Env): source is ObservabilitySettings {
  return typeof source['logging'] === 'object';
}
