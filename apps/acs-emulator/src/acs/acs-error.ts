/** The ACS `ErrorResponse` shape: `{"error":{"code","message"}}`, with the code repeated in `x-ms-error-code`. */
export interface AcsError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

export function acsErrorBody(error: AcsError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

/**
 * The message ACS uses for a syntactically invalid recipient; clients (and SPEC section 4) match on the
 * substring "Invalid format for email address", so keep that text verbatim.
 */
export function invalidAddressError(address: string): AcsError {
  return { status: 400, code: 'BadRequest', message: `Invalid format for email address '${address}'.` };
}

/** The text ACS puts in a quota 429 (clients parse the seconds out of it). */
export function tooManyRequestsError(
  retryAfterSeconds: number,
  limit = 'PerSubscriptionPerMinuteLimitExceeded',
): AcsError {
  return {
    status: 429,
    code: 'TooManyRequests',
    message: `${limit} - Please try again after ${retryAfterSeconds} seconds.`,
    retryAfterSeconds,
  };
}

const SERVER_ERROR_CODES: Readonly<Record<number, string>> = {
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

export function serverError(status: number, retryAfterSeconds?: number): AcsError {
  return {
    status,
    code: SERVER_ERROR_CODES[status] ?? 'ServerError',
    message: 'The service is temporarily unable to process the request (scripted by the ACS emulator).',
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

export const EMAIL_DROPPED = {
  code: 'EmailDropped',
  message: 'Email was dropped after several attempts to deliver.',
} as const;

export const EMAIL_SUPPRESSED = {
  code: 'EmailDroppedAllRecipientsSuppressed',
  message: 'Email was dropped because all recipients are suppressed.',
} as const;
