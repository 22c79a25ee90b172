import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { type IncomingMessage, type ServerResponse } from 'node:http';

/** RFC 9457 problem details. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** An HTTP error answered as problem details (`application/problem+json`). */
export class ProblemException extends HttpException {
  constructor(status: number, title: string, detail?: string, extensions: Record<string, unknown> = {}) {
    super(
      { type: 'about:blank', title, status, ...(detail === undefined ? {} : { detail }), ...extensions },
      status,
    );
  }
}

interface BodyParserError {
  readonly type: string;
  readonly status: number;
  readonly message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

/** Answers every error as problem details; unexpected errors become a 500 without internals. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    // Written through Node's own request/response API (which Express extends): Nest's adapter reply() would
    // replace the problem+json content type with application/json.
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    const problem = this.toProblem(exception);
    const instance = (request.url ?? '').split('?')[0];
    if (response.headersSent) {
      response.end();
      return;
    }
    response.statusCode = problem.status;
    response.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    response.end(JSON.stringify({ ...problem, instance }));
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'object' && body !== null && 'title' in body) return body as ProblemDetails;
      const message =
        typeof body === 'string'
          ? body
          : String((body as { message?: unknown }).message ?? exception.message);
      return { type: 'about:blank', title: exception.name, status, detail: message };
    }
    if (isBodyParserError(exception)) {
      // body-parser's errors (too large, bad encoding) carry their HTTP status and a safe message.
      return {
        type: 'about:blank',
        title: exception.status === 413 ? 'Payload Too Large' : 'Bad Request',
        status: exception.status,
        detail: exception.message,
      };
    }
    this.logger.error('Unhandled error', exception instanceof Error ? exception.stack : String(exception));
    return {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'An unexpected error occurred',
    };
  }
}
