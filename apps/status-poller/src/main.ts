import 'reflect-metadata';
import { type AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, redactConfig } from '@notifications/config';
import { configureHttp, logLevelsFor, StatusPollerModule } from './app.module';
import { loadStatusPollerConfig, type StatusPollerConfig } from './config/status-poller.config';

async function bootstrap(): Promise<void> {
  let config: StatusPollerConfig;
  try {
    config = loadStatusPollerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create<NestExpressApplication>(StatusPollerModule.forRoot(config), {
    bodyParser: false,
    logger: logLevelsFor(config.LOG_LEVEL),
  });
  configureHttp(app, config);
  await app.listen(config.http.port, config.http.host);
  const logger = new Logger('status-poller');
  logger.log(`Configuration: ${JSON.stringify(redactConfig(config))}`);
  const { port } = app.getHttpServer().address() as AddressInfo;
  // Printed whatever LOG_LEVEL is: scripts and tests wait for this line (PORT=0 picks a free port).
  process.stdout.write(`status-poller listening on http://${config.http.host}:${port}\n`);
}

bootstrap().catch((error: unknown) => {
  console.error('status-poller failed to start', error);
  process.exit(1);
});
