import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { redactConfig } from '@notifications/config';
import { createOrdersApp } from './app/orders-app';
import { loadOrdersConfig } from './config/orders.config';

async function main(): Promise<void> {
  const config = loadOrdersConfig();
  const app = await createOrdersApp({ config, shutdownHooks: true });
  const logger = new Logger('orders');
  logger.log(`Configuration: ${JSON.stringify(redactConfig(config))}`);
  if (config.auth.key.kind === 'dev') {
    logger.warn(`Trusting the development signing key (${config.env}); create tokens with npm run token`);
  }
  await app.listen(config.http.port, config.http.host);
  logger.log(`Listening on ${await app.getUrl()} (API docs at /docs)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
