import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { runService } from '@notifications/observability';
import { EmailSenderModule } from './app/email-sender.module';
import { loadEmailSenderConfig } from './config/email-sender.config';

runService({
  service: 'email-sender',
  loadConfig: () => loadEmailSenderConfig(),
  createApp: async (config, observability) => {
    const app = await NestFactory.create(
      EmailSenderModule.forRoot({ config, observability: observability.moduleOptions }),
      { logger: observability.nestLogger },
    );
    app.enableShutdownHooks();
    return app;
  },
  http: (config) => config.http,
  started: ({ config, urls, logger }) =>
    logger.log(
      `Listening on ${urls.url}; management on ${urls.managementUrl ?? '-'}; sending through ${config.acs.connection.endpoint}`,
    ),
});
