/**
 * Whether an error means the database could not be reached or is shutting down — the server's or the network's
 * state, not the statement's: a consumer then pauses instead of spending the message's attempts.
 *
 * SQLSTATEs, from "Appendix A. PostgreSQL Error Codes" (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * class 08 "Connection Exception" (08000, 08003, 08006, 08001, 08004, …); 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up or in recovery); 53300 too_many_connections. Everything else (constraint
 * violations, syntax, serialization failures, statement timeouts 57014) belongs to the statement and stays a
 * normal failure. node-postgres reports a refused or dropped socket without a SQLSTATE: a Node system error code
 * (ECONNREFUSED, …; also inside an AggregateError for a host with several addresses) or one of its own messages.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/** node-postgres' and pg-pool's own messages for a lost or impossible connection (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Client was closed and is not queryable',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  return search(error, new Set());
}

function search(error: unknown, seen: Set<unknown>): boolean {
  if (typeof error !== 'object' || error === null || seen.has(error)) return false;
  seen.add(error);
  const { code, message, cause, driverError, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    driverError?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (code.startsWith('08') && code.length === 5) return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((text) => message.includes(text))) return true;
  // TypeORM's QueryFailedError keeps the driver's error; Node's multi-address refusal is an AggregateError.
  if (search(driverError, seen) || search(cause, seen)) return true;
  return Array.isArray(errors) && errors.some((part) => search(part, seen));
}
