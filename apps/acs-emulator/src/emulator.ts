import { type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AcsHttpHandler } from './acs/acs-http.handler';
import { AppModule } from './app.module';
import { systemClock, type Clock } from './common/clock';
import type { EmulatorConfig } from './config/emulator.config';

export interface StartOptions {
  readonly logger?: LoggerService | LogLevel[] | false;
  readonly clock?: Clock;
  /** Close on SIGTERM/SIGINT (the process entry point wants this; in-process tests do not). */
  readonly shutdownHooks?: boolean;
}

export interface RunningEmulator {
  readonly app: NestExpressApplication;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (or the configured host). */
  readonly url: string;
  /** A connection string for this instance, with the configured access key. */
  readonly connectionString: string;
  close(): Promise<void>;
}

/** Starts the emulator on `config.http` (port 0 = any free port) and resolves once it listens. */
export async function startEmulator(
  config: EmulatorConfig,
  options: StartOptions = {},
): Promise<RunningEmulator> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, options.clock ?? systemClock),
    {
      // The ACS routes read the raw body themselves (it is signed); only /admin gets a JSON parser, below.
      bodyParser: false,
      // SDK clients keep connections alive; without this, shutdown would wait for them to time out.
      forceCloseConnections: true,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    },
  );
  // The ACS routes are answered straight from the HTTP server's request event, before express: express's
  // per-request set-up (request/response decoration, router walk) cost more than the rest of a send or poll.
  // Everything else (admin, health) goes to the express app as before.
  const acs = app.get(AcsHttpHandler).middleware;
  const server: Server = app.getHttpServer();
  const frameworkListeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) =>
    acs(request, response, () => {
      for (const listener of frameworkListeners) listener(request, response);
    }),
  );
  app.useBodyParser('json', { limit: '1mb' });
  app.disable('x-powered-by');
  if (options.shutdownHooks) app.enableShutdownHooks();

  await app.listen(config.http.port, config.http.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://${displayHost(config.http.host)}:${port}`;
  return {
    app,
    port,
    url,
    connectionString: `endpoint=${url}/;accesskey=${config.acs.accessKey}`,
    close: () => app.close(),
  };
}

/** A host clients can connect to: wildcard binds are reached through the loopback address. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
