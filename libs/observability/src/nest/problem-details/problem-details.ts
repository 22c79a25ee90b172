import { HttpException } from '@nestjs/common';

/**
 * RFC 9457 problem details as every app answers them, with ASP.NET Core's `errors` map (field → messages) for
 * validation problems and any extension members a problem needs (`maxEvents`, `problems`…).
 */
export interface ProblemDetails {
  /** The status' section of RFC 9110 (see `problemType`); the same for every app and every problem. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: Readonly<Record<string, readonly string[]>>;
  readonly [extension: string]: unknown;
}

// The one rule for `type`: the RFC 9110 section of the status code, as the reference (ASP.NET Core) sends it;
// `about:blank` (RFC 9457 §4.2.1: "no additional semantics beyond the status code") for a status not listed.
const STATUS: Readonly<Record<number, { readonly title: string; readonly section: string }>> = {
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

export interface ProblemExtras {
  /** Default: the status' reason phrase. */
  readonly title?: string;
  readonly errors?: Readonly<Record<string, readonly string[]>>;
  /** Extension members, written beside the standard ones. */
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export function problem(status: number, detail?: string, extra: ProblemExtras = {}): ProblemDetails {
  return {
    ...extra.extensions,
    type: problemType(status),
    title: extra.title ?? problemTitle(status),
    status,
    ...(detail === undefined ? {} : { detail }),
    ...(extra.errors === undefined ? {} : { errors: extra.errors }),
  };
}

/** An HTTP error that `ProblemDetailsFilter` renders as the given problem details (plus response headers). */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem, problem.status);
  }

  static of(status: number, detail?: string, extra?: ProblemExtras): ProblemException {
    return new ProblemException(problem(status, detail, extra));
  }

  static badRequest(detail: string, errors?: Record<string, string[]>): ProblemException {
    return ProblemException.of(
      400,
      detail,
      errors === undefined ? {} : { title: 'One or more validation errors occurred.', errors },
    );
  }

  static notFound(detail: string): ProblemException {
    return ProblemException.of(404, detail);
  }
}
