/**
 * A one-line description of an error. node-postgres reports a refused connection to a host that resolves to
 * several addresses (`localhost`) as an AggregateError with an empty message: describe its parts instead.
 * Duck-typed rather than `instanceof Error`, which fails for errors from another realm (Node core under Jest).
 */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { errors, message, name } = error as { errors?: unknown; message?: unknown; name?: unknown };
  if (Array.isArray(errors) && errors.length > 0 && !message) return errors.map(describeError).join('; ');
  if (typeof message === 'string' && message !== '') return message;
  return typeof name === 'string' ? name : String(error);
}
