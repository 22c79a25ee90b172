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

/**
 * Shared infrastructure every message needs (the database, the Kafka broker, ACS) is unavailable: the failure
 * says nothing about the message. The consumer does not spend the message's attempts on it: it pauses the
 * partition, waits with a growing delay (capped), and reads the same message again.
 *
 * Not for a dependency that belongs to one message or tenant (a tenant's send-condition endpoint): pausing every
 * message for one tenant's outage would let that tenant stall everybody, so those stay TransientError.
 * The runner also finds this error as the `cause` of another error (e.g. a TransientError wrapping it).
 */
export class InfrastructureUnavailableError extends Error {
  override readonly name = 'InfrastructureUnavailableError';

  constructor(
    /** What is unavailable, short and stable (a metric label): `postgresql`, `kafka`, `acs`. */
    readonly dependency: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${dependency} unavailable: ${message}`, { cause: options.cause });
  }
}

/**
 * kafkajs errors that mean the cluster could not be reached or did not answer (as opposed to a refused record):
 * a handler's publish failing this way is a broker outage, not the message's fault.
 */
const BROKER_UNAVAILABLE_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
]);

/**
 * The infrastructure outage behind an error, if any: an InfrastructureUnavailableError anywhere in its cause chain,
 * or a kafkajs connection-level error (reported as dependency `kafka`).
 */
export function infrastructureOutageOf(error: unknown): InfrastructureUnavailableError | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof InfrastructureUnavailableError) return current;
    if (BROKER_UNAVAILABLE_ERRORS.has(current.name))
      return new InfrastructureUnavailableError('kafka', current.message, { cause: error });
  }
  return undefined;
}
