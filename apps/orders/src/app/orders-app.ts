import { ConsoleLogger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { nestLogLevels } from '@notifications/observability';
import { JwtVerifier } from '../api/jwt-verifier';
import { type OrdersConfig } from '../config/orders.config';
import { ProblemDetailsFilter } from '../api/problem-details.filter';
import { setUpOpenApi } from '../api/openapi';
import { jsonBodyParserExcept } from '../api/deferred-json-body';
import { ORDER_CREATION_PATH } from '../api/orders.controller';
import { OrdersModule, type OrdersModuleOptions } from './orders.module';
import { CONSOLE_PATHS } from '../ops/console.controller';

export const GLOBAL_PREFIX = 'notifications/api/v1';

export interface OrdersAppOptions extends Omit<OrdersModuleOptions, 'verifier'> {
  /** Nest logger, log levels, or false for silence (tests). Default: JSON lines in production. */
  readonly logger?: LoggerService | LogLevel[] | false;
  /** Register SIGTERM/SIGINT handlers (the real process; tests close the app themselves). */
  readonly shutdownHooks?: boolean;
}

function defaultLogger(config: OrdersConfig): LoggerService {
  return new ConsoleLogger({
    json: config.env === 'production',
    prefix: 'orders',
    logLevels: nestLogLevels(config.observability.logging.level),
  });
}

/**
 * The orders app, configured but not listening: `main.ts`, the tests and the crash test's child process all
 * build it here, so they run the same thing. Start it with `listenWithManagement` (public and management
 * listeners).
 */
export async function createOrdersApp(options: OrdersAppOptions): Promise<NestExpressApplication> {
  const { config } = options;
  const verifier = JwtVerifier.create(config.auth);
  const app = await NestFactory.create<NestExpressApplication>(
    OrdersModule.register({ ...options, verifier }),
    {
      bodyParser: false,
      logger: options.logger ?? defaultLogger(config),
    },
  );
  // Every JSON body is parsed before routing, except an order's: its handler reads it once the token is verified
  // and the intake gate admits it (README "Memory"), so a stranger's large body is never buffered.
  app.use(jsonBodyParserExcept(config.api.bodyLimitBytes, [`/${GLOBAL_PREFIX}/${ORDER_CREATION_PATH}`]));
  app.disable('x-powered-by');
  // Probes, scrapes and $status live at the root like in every other app.
  app.setGlobalPrefix(GLOBAL_PREFIX, {
    exclude: ['health/live', 'health/ready', 'metrics', 'status', ...CONSOLE_PATHS],
  });
  app.useGlobalFilters(new ProblemDetailsFilter());
  if (options.shutdownHooks === true) app.enableShutdownHooks();
  if (config.api.docsEnabled) setUpOpenApi(app);
  return app;
}
