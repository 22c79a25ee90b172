import { maskPersonalData } from './personal-data';

/**
 * How a handler tells the runtime what to do with a message it could not handle.
 * - TransientError: try again later (retry topic, growing delay, bounded attempts, then dead letter).
 * - PermanentError: retrying cannot help; dead-letter now.
 * Any other error counts as transient: an unexpected bug must not lose the message, and the attempt bound
 * keeps it from looping forever.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  /** Wait at least this long before the next attempt (e.g. a provider's Retry-After). */
  readonly delayMs: number | undefined;

  constructor(message: string, options: { delayMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.delayMs = options.delayMs;
  }
}

export class PermanentError extends Error {
  override readonly name = 'PermanentError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
  }
}

/**
 * An error's class and message, the message with personal data masked (`maskPersonalData`): it goes into
 * dead-letter and retry headers, logs and `/stats`, and parsers and providers echo input values into messages.
 */
export function describeError(error: unknown): { errorClass: string; message: string } {
  if (error instanceof Error)
    return { errorClass: error.name || error.constructor.name, message: maskPersonalData(error.message) };
  return { errorClass: typeof error, message: maskPersonalData(String(error)) };
}
