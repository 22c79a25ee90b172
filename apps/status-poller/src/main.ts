import 'reflect-metadata';
import { type AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { runService } from '@notifications/observability';
import { configureHttp, StatusPollerModule } from './app.module';
import { loadStatusPollerConfig } from './config/status-poller.config';

runService({
  service: 'status-poller',
  loadConfig: () => loadStatusPollerConfig(),
  createApp: async (config, observability) => {
    const app = await NestFactory.create<NestExpressApplication>(
      StatusPollerModule.forRoot(config, observability.moduleOptions),
      { bodyParser: false, logger: observability.nestLogger },
    );
    configureHttp(app, config);
    return app;
  },
  http: (config) => config.http,
  started: ({ config, urls, app }) => {
    const { port } = app.getHttpServer().address() as AddressInfo;
    // Printed whatever LOG_LEVEL is: scripts and tests wait for this line (PORT=0 picks a free port).
    process.stdout.write(`status-poller listening on http://${config.http.host}:${port}\n`);
    process.stdout.write(`status-poller management on ${urls.managementUrl ?? '-'}\n`);
  },
});
