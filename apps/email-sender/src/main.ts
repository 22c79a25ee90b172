import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { redactConfig } from '@notifications/config';
import { listenWithManagement, startObservability } from '@notifications/observability';
import { EmailSenderModule } from './app/email-sender.module';
import { loadEmailSenderConfig } from './config/email-sender.config';

async function bootstrap(): Promise<void> {
  const config = loadEmailSenderConfig();
  // Before Nest: JSON logs from the first line, and tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set).
  const observability = startObservability('email-sender', config.observability);
  const app = await NestFactory.create(
    EmailSenderModule.forRoot({ config, observability: observability.moduleOptions }),
    { logger: observability.nestLogger },
  );
  app.enableShutdownHooks();
  const { url, managementUrl } = await listenWithManagement(app, config.http);
  const log = new Logger('EmailSender');
  log.log(
    `Listening on ${url}; management on ${managementUrl ?? '-'}; sending through ${config.acs.connection.endpoint}`,
  );
  log.log({ msg: 'Configuration', config: redactConfig(config), tracing: observability.tracing.enabled });
}

bootstrap().catch((error: unknown) => {
  // Config errors list every bad variable; print them plainly and exit non-zero.
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
