import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { type HttpRequest, type HttpResponse } from './http-types';
import { ProblemException, problem, type ProblemDetails } from './problem-details';

/**
 * Renders every error as `application/problem+json` (RFC 9457), never an HTML page or a stack trace. The
 * health endpoints keep the health library's own body (Kubernetes and dashboards read it).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<HttpResponse>();
    if (response.headersSent) return;

    if (request.path.startsWith('/health/') && exception instanceof HttpException) {
      response.status(exception.getStatus()).json(exception.getResponse());
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
        `${request.method} ${request.originalUrl} failed`,
        exception instanceof Error ? exception.stack : String(exception),
      );
      body = problem(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred.');
    }
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response
      .status(body.status)
      .type('application/problem+json')
      .send(JSON.stringify({ ...body, instance: request.originalUrl.split('?')[0] }));
  }
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
