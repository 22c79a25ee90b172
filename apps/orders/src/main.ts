import 'reflect-metadata';
import { runService } from '@notifications/observability';
import { createOrdersApp } from './app/orders-app';
import { loadOrdersConfig } from './config/orders.config';

runService({
  service: 'orders',
  loadConfig: () => loadOrdersConfig(),
  createApp: (config, observability) =>
    createOrdersApp({
      config,
      shutdownHooks: true,
      logger: observability.nestLogger,
      observability: observability.moduleOptions,
    }),
  http: (config) => config.http,
  started: ({ config, urls, logger }) => {
    if (config.auth.key.kind === 'dev') {
      logger.warn(`Trusting the development signing key (${config.env}); create tokens with npm run token`);
    }
    logger.log(
      `Listening on ${urls.url}${config.api.docsEnabled ? ' (API docs at /docs)' : ''}; management on ${urls.managementUrl ?? '-'}`,
    );
  },
});
