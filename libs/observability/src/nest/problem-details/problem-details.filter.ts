import { type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { problem, ProblemException, type ProblemDetails } from './problem-details';

/** Express's request adds `originalUrl` (the path before any router mount); Nest over Express always has it. */
type HttpRequest = IncomingMessage & { readonly originalUrl?: string };

/**
 * Renders every error as `application/problem+json` (RFC 9457), never an HTML page or a stack trace;
 * unexpected errors become a 500 without internals (and are logged). The health endpoints keep the health
 * library's own body (Kubernetes and dashboards read it). Install with `app.useGlobalFilters(new …)`.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    // Written through Node's own response API (which Express extends): Nest's adapter `reply()` would replace
    // the problem+json content type with application/json.
    const response = http.getResponse<ServerResponse>();
    if (response.headersSent) {
      if (!response.writableEnded) response.end();
      return;
    }
    const path = (request.originalUrl ?? request.url ?? '').split('?')[0] ?? '';

    if (path.startsWith('/health/') && exception instanceof HttpException) {
      send(response, exception.getStatus(), 'application/json; charset=utf-8', exception.getResponse());
      return;
    }

    let body: ProblemDetails;
    let headers: Readonly<Record<string, string>> = {};
    if (exception instanceof ProblemException) {
      body = exception.problem;
      headers = exception.headers;
    } else if (exception instanceof HttpException) {
      body = problem(exception.getStatus(), detailOf(exception));
    } else if (isClientHttpError(exception)) {
      // body-parser's errors (http-errors): 413 too large, 415 unsupported charset or encoding, 400 bad body.
      body = problem(exception.status, exception.message);
    } else {
      this.logger.error(
        `${request.method ?? '?'} ${path} failed`,
        exception instanceof Error ? exception.stack : String(exception),
      );
      body = problem(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred.');
    }
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    send(response, body.status, 'application/problem+json; charset=utf-8', { ...body, instance: path });
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  response.statusCode = status;
  response.setHeader('Content-Type', contentType);
  response.end(JSON.stringify(body));
}

interface ClientHttpError {
  readonly status: number;
  readonly message: string;
  readonly expose: true;
}

function isClientHttpError(error: unknown): error is ClientHttpError {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as Partial<ClientHttpError>;
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

function detailOf(exception: HttpException): string | undefined {
  const payload = exception.getResponse();
  if (typeof payload === 'string') return payload;
  if (typeof payload === 'object' && payload !== null && 'message' in payload) {
    const { message } = payload as { message: unknown };
    if (typeof message === 'string') return message;
    if (Array.isArray(message)) return message.map(String).join('; ');
  }
  return exception.message;
}
