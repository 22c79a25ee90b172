import { HttpException } from '@nestjs/common';

/** RFC 9457 problem details, with ASP.NET's `errors` map (field → messages) for validation problems. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: Readonly<Record<string, readonly string[]>>;
}

// The reference (ASP.NET Core) points `type` at the RFC 9110 section of the status code; so do we.
const STATUS: Record<number, { title: string; section: string }> = {
  400: { title: 'Bad Request', section: '15.5.1' },
  401: { title: 'Unauthorized', section: '15.5.2' },
  403: { title: 'Forbidden', section: '15.5.4' },
  404: { title: 'Not Found', section: '15.5.5' },
  405: { title: 'Method Not Allowed', section: '15.5.6' },
  406: { title: 'Not Acceptable', section: '15.5.7' },
  409: { title: 'Conflict', section: '15.5.10' },
  413: { title: 'Content Too Large', section: '15.5.14' },
  415: { title: 'Unsupported Media Type', section: '15.5.16' },
  422: { title: 'Unprocessable Content', section: '15.5.21' },
  500: { title: 'Internal Server Error', section: '15.6.1' },
  503: { title: 'Service Unavailable', section: '15.6.4' },
};

export function problemType(status: number): string {
  const known = STATUS[status];
  return known ? `https://tools.ietf.org/html/rfc9110#section-${known.section}` : 'about:blank';
}

export function problemTitle(status: number): string {
  return STATUS[status]?.title ?? 'Error';
}

export function problem(
  status: number,
  detail?: string,
  extra: { title?: string; errors?: Record<string, string[]> } = {},
): ProblemDetails {
  return {
    type: problemType(status),
    title: extra.title ?? problemTitle(status),
    status,
    ...(detail === undefined ? {} : { detail }),
    ...(extra.errors === undefined ? {} : { errors: extra.errors }),
  };
}

/** An HTTP error that is rendered as the given problem details (plus response headers). */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem, problem.status);
  }

  static badRequest(detail: string, errors?: Record<string, string[]>): ProblemException {
    return new ProblemException(
      problem(
        400,
        detail,
        errors === undefined ? {} : { title: 'One or more validation errors occurred.', errors },
      ),
    );
  }

  static notFound(detail: string): ProblemException {
    return new ProblemException(problem(404, detail));
  }
}
