import { ContractViolationError } from '../contract-violation.error';
import { decodeRecordValue, type MessageContract } from '../message-contract';

// The reference health check produces the bare string `test` (not a JSON string literal).
export const HEALTH_CHECK_PAYLOAD = 'test';

function validate(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    const got = typeof value === 'string' ? 'an empty string' : value === null ? 'null' : typeof value;
    throw new ContractViolationError('HealthCheck', [
      { path: '', message: `expected a non-empty string, got ${got}` },
    ]);
  }
  return value;
}

/** The health-check payload: any non-empty string, not JSON; `HEALTH_CHECK_PAYLOAD` is what is sent. */
export const HealthCheckContract: MessageContract<string> = Object.freeze({
  name: 'HealthCheck',
  validate,
  parse: (raw: string | Buffer | null | undefined): string => validate(decodeRecordValue('HealthCheck', raw)),
  serialize: (message: string): string => validate(message),
});
