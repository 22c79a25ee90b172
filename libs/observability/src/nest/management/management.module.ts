import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  applyDecorators,
  type BeforeApplicationShutdown,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  ForbiddenException,
  Global,
  Inject,
  Injectable,
  type INestApplication,
  Logger,
  Module,
  NotFoundException,
  ServiceUnavailableException,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type ManagementSettings } from '@notifications/config';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { AuthError, BearerTokenVerifier, wwwAuthenticate, type VerifiedToken } from './bearer-token.verifier';

const MANAGEMENT_SETTINGS = Symbol('MANAGEMENT_SETTINGS');
const OPERATOR_VERIFIER = Symbol('OPERATOR_VERIFIER');
export const MANAGEMENT_ENDPOINT = 'notifications:management-endpoint';

export interface ManagementEndpointOptions {
  /**
   * Whether the route requires an operator token (default true). Only read-only, aggregate, personal-data-free
   * routes scraped by monitoring (`/metrics`, `/status`) set false: the listener and the NetworkPolicy guard them.
   */
  readonly operatorCredential?: boolean;
}

/**
 * Marks a controller (or route) as part of the management surface: served only on the management listener (the
 * public listener answers 404, as for a route that does not exist) and, unless `operatorCredential: false`, only
 * to a bearer token with the operator scope (401 without a valid token, 403 without the scope, 503 with
 * `Retry-After` when the operator keys cannot be fetched).
 */
export function ManagementEndpoint(
  options: ManagementEndpointOptions = {},
): ClassDecorator & MethodDecorator {
  return applyDecorators(
    SetMetadata(MANAGEMENT_ENDPOINT, { operatorCredential: options.operatorCredential ?? true }),
    UseGuards(ManagementGuard),
  );
}

/** The management listener: a second HTTP server over the app's own request handler (one Nest app, two ports). */
@Injectable()
export class ManagementServer implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Management');
  private server: Server | undefined;
  private boundPort: number | undefined;

  constructor(@Inject(MANAGEMENT_SETTINGS) private readonly settings: ManagementSettings | undefined) {}

  /** Starts the listener on the configured host and port (after `app.listen`, which initialises the routes). */
  async listen(app: INestApplication): Promise<string | undefined> {
    if (this.settings === undefined || this.server !== undefined) return this.url;
    const handler = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: ServerResponse) => void;
    const server = createServer(handler);
    const { port, host } = this.settings.listener;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.logger.log(
      `Management listening on ${this.url ?? ''} (operator token: ${this.settings.operatorAuth.key.kind === 'dev' ? 'development key' : this.settings.operatorAuth.key.kind})`,
    );
    return this.url;
  }

  /** `http://host:port` of the running listener (127.0.0.1 when bound to every interface). */
  get url(): string | undefined {
    if (this.boundPort === undefined || this.settings === undefined) return undefined;
    const host = this.settings.listener.host;
    const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${this.boundPort}`;
  }

  /** Whether a request came in through this listener (its socket's local port is the listener's). */
  received(request: IncomingMessage): boolean {
    return this.boundPort !== undefined && request.socket.localPort === this.boundPort;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}

interface ManagementRequest extends IncomingMessage {
  operator?: VerifiedToken;
}

@Injectable()
export class ManagementGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly server: ManagementServer,
    @Inject(OPERATOR_VERIFIER) private readonly verifier: BearerTokenVerifier | undefined,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<ManagementRequest & { originalUrl?: string }>();
    if (!this.server.received(request)) {
      // The same answer as for a route that does not exist: the public listener does not reveal the surface.
      throw new NotFoundException(
        `Cannot ${request.method ?? 'GET'} ${request.originalUrl ?? request.url ?? ''}`,
      );
    }
    const options = this.reflector.getAllAndOverride<Required<ManagementEndpointOptions> | undefined>(
      MANAGEMENT_ENDPOINT,
      [context.getHandler(), context.getClass()],
    );
    if (options?.operatorCredential === false) return true;
    if (this.verifier === undefined) throw new NotFoundException();
    const header = request.headers.authorization;
    try {
      request.operator = await this.verifier.verify(header);
      return true;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      const { failure } = error;
      const response = http.getResponse<ServerResponse>();
      if (failure.kind === 'unavailable') {
        // The operators' identity provider is down, not the token wrong: retry later (RFC 9110 §15.6.4).
        response.setHeader('Retry-After', String(failure.retryAfterSeconds));
        throw new ServiceUnavailableException(failure.reason);
      }
      response.setHeader('WWW-Authenticate', wwwAuthenticate(failure));
      throw failure.kind === 'unauthenticated'
        ? new UnauthorizedException(failure.reason)
        : new ForbiddenException(failure.reason);
    }
  }
}

/**
 * The management listener and the operator credential, for every app (imported by ObservabilityModule). Without
 * settings there is no listener, and every management route answers 404.
 */
@Global()
@Module({})
export class ManagementModule {
  static forRoot(settings: ManagementSettings | undefined): DynamicModule {
    return {
      module: ManagementModule,
      providers: [
        { provide: MANAGEMENT_SETTINGS, useValue: settings },
        {
          provide: OPERATOR_VERIFIER,
          // Built at start-up: a bad key or an unreadable dev key file fails the start, not the first request.
          useValue: settings === undefined ? undefined : BearerTokenVerifier.create(settings.operatorAuth),
        },
        ManagementServer,
        ManagementGuard,
      ],
      exports: [ManagementServer, ManagementGuard, OPERATOR_VERIFIER],
    };
  }
}

export interface ListeningUrls {
  /** The public listener. */
  readonly url: string;
  /** The management listener, when the app has one. */
  readonly managementUrl: string | undefined;
}

/** Starts both listeners: the public one on `http`, then the management one on its own settings. */
export async function listenWithManagement(
  app: INestApplication,
  http: { readonly port: number; readonly host: string },
): Promise<ListeningUrls> {
  await app.listen(http.port, http.host);
  const managementUrl = await app.get(ManagementServer).listen(app);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, managementUrl };
}
