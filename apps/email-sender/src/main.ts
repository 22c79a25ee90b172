import 'reflect-metadata';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { redactConfig } from '@notifications/config';
import { EmailSenderModule } from './app/email-sender.module';
import { loadEmailSenderConfig, type EmailSenderConfig } from './config/email-sender.config';

const LEVELS: Record<EmailSenderConfig['log']['LOG_LEVEL'], LogLevel[]> = {
  debug: ['debug', 'log', 'warn', 'error', 'fatal'],
  info: ['log', 'warn', 'error', 'fatal'],
  warn: ['warn', 'error', 'fatal'],
  error: ['error', 'fatal'],
};

async function bootstrap(): Promise<void> {
  const config = loadEmailSenderConfig();
  const logger = new ConsoleLogger({
    json: config.log.LOG_FORMAT === 'json',
    logLevels: LEVELS[config.log.LOG_LEVEL],
  });
  const app = await NestFactory.create(EmailSenderModule.forRoot({ config }), { logger });
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  const log = new Logger('EmailSender');
  log.log(`Listening on ${await app.getUrl()}; sending through ${config.acs.connection.endpoint}`);
  log.log(`Configuration: ${JSON.stringify(redactConfig(config))}`);
}

bootstrap().catch((error: unknown) => {
  // Config errors list every bad variable; print them plainly and exit non-zero.
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
