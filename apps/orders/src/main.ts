import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { redactConfig } from '@notifications/config';
import { listenWithManagement, startObservability } from '@notifications/observability';
import { createOrdersApp } from './app/orders-app';
import { loadOrdersConfig } from './config/orders.config';

async function main(): Promise<void> {
  const config = loadOrdersConfig();
  // Before Nest: JSON logs from the first line, and tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set).
  const observability = startObservability('orders', config.observability);
  const app = await createOrdersApp({
    config,
    shutdownHooks: true,
    logger: observability.nestLogger,
    observability: observability.moduleOptions,
  });
  const logger = new Logger('orders');
  logger.log({ msg: 'Configuration', config: redactConfig(config), tracing: observability.tracing.enabled });
  if (config.auth.key.kind === 'dev') {
    logger.warn(`Trusting the development signing key (${config.env}); create tokens with npm run token`);
  }
  const { url, managementUrl } = await listenWithManagement(app, config.http);
  logger.log(
    `Listening on ${url}${config.api.docsEnabled ? ' (API docs at /docs)' : ''}; management on ${managementUrl ?? '-'}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
