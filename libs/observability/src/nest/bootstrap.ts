import { type LoggerService } from '@nestjs/common';
import { loadConfig, observabilitySettings, type ObservabilitySettings } from '@notifications/config';
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
 * What every `main.ts` does first, before Nest exists: read LOG_* and OTEL_* settings, start tracing (when
 * configured), and build the JSON logger Nest and the app's modules will share.
 */
export function startObservability(
  service: string,
  env: Record<string, string | undefined> = process.env,
): AppObservability {
  const settings = loadConfig(observabilitySettings, env);
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
