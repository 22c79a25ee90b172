import { type z } from 'zod';
import { ContractViolationError } from './contract-violation.error';
import { toContractIssues } from './wire-schema';

/** How one payload type is read from and written to Kafka. */
export interface MessageContract<T> {
  /** The payload's name in SPEC section 4, e.g. 'Email'. */
  readonly name: string;
  /** Decodes and validates a record value. Throws ContractViolationError (never anything else) on bad input. */
  parse(raw: string | Buffer | null | undefined): T;
  /** The exact reference wire format. Validates first, so a bad message never leaves the process. */
  serialize(message: T): string;
  /** The rules of `parse`, on an already-decoded value; returns the normalised message. */
  validate(value: unknown): T;
}

/** Decodes a Kafka record value into text; throws ContractViolationError for a missing value. */
export function decodeRecordValue(contract: string, raw: string | Buffer | null | undefined): string {
  if (raw === null || raw === undefined) {
    throw new ContractViolationError(contract, [{ path: '', message: 'no message value (null)' }]);
  }
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  // A byte order mark is not JSON, but some Windows producers write one.
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** A JSON payload contract from its schema. `indent` reproduces a reference writer that pretty-prints. */
export function jsonContract<S extends z.ZodType>(
  name: string,
  schema: S,
  options: { indent?: number } = {},
): MessageContract<z.output<S>> {
  const validate = (value: unknown): z.output<S> => {
    const result = schema.safeParse(value, { reportInput: true });
    if (!result.success) throw new ContractViolationError(name, toContractIssues(result.error.issues));
    return result.data;
  };
  return Object.freeze({
    name,
    validate,
    parse(raw: string | Buffer | null | undefined): z.output<S> {
      const text = decodeRecordValue(name, raw);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        const reason = withoutInputExcerpt(error instanceof Error ? error.message : String(error));
        throw new ContractViolationError(name, [{ path: '', message: `not valid JSON: ${reason}` }], {
          cause: error,
        });
      }
      return validate(value);
    },
    serialize(message: z.output<S>): string {
      return JSON.stringify(validate(message), null, options.indent);
    },
  });
}

/**
 * V8 quotes the start of the input in JSON errors (`Unexpected token 'o', "ola.nordma"... is not valid JSON`):
 * a fragment of an address or identity number that no masking recognises. The position stays, the excerpt goes.
 */
function withoutInputExcerpt(message: string): string {
  return message.replace(/, ".*"(?:\.\.\.)? is not valid JSON$/s, ' is not valid JSON');
}
