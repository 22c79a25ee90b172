import 'reflect-metadata';
import { type AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, redactConfig } from '@notifications/config';
import { listenWithManagement, startObservability } from '@notifications/observability';
import { configureHttp, StatusPollerModule } from './app.module';
import { loadStatusPollerConfig, type StatusPollerConfig } from './config/status-poller.config';

async function bootstrap(): Promise<void> {
  let config: StatusPollerConfig;
  let observability: ReturnType<typeof startObservability>;
  try {
    config = loadStatusPollerConfig();
    // Before Nest: JSON logs from the first line, and tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set).
    observability = startObservability('status-poller', config.observability);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create<NestExpressApplication>(
    StatusPollerModule.forRoot(config, observability.moduleOptions),
    { bodyParser: false, logger: observability.nestLogger },
  );
  configureHttp(app, config);
  const { managementUrl } = await listenWithManagement(app, config.http);
  const logger = new Logger('status-poller');
  logger.log({ msg: 'Configuration', config: redactConfig(config), tracing: observability.tracing.enabled });
  const { port } = app.getHttpServer().address() as AddressInfo;
  // Printed whatever LOG_LEVEL is: scripts and tests wait for this line (PORT=0 picks a free port).
  process.stdout.write(`status-poller listening on http://${config.http.host}:${port}\n`);
  process.stdout.write(`status-poller management on ${managementUrl ?? '-'}\n`);
}

bootstrap().catch((error: unknown) => {
  console.error('status-poller failed to start', error);
  process.exit(1);
});
