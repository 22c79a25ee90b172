import fc from 'fast-check';
import { ContractViolationError } from './contract-violation.error';
import { type MessageContract } from './message-contract';
import { ALL_TOPICS } from './topics';

// Property-based: whatever a producer writes to a topic, a contract either returns a message or throws
// ContractViolationError (which consumers dead-letter as invalid) — never another error, which would be
// treated as a handler failure and retried. fast-check prints the seed and the shrunk input of a failure.

const contracts: readonly MessageContract<unknown>[] = [
  ...new Map(ALL_TOPICS.map((topic) => [topic.contract.name, topic.contract])).values(),
];

// Every property name the payloads declare (and `$`, the type discriminator), in any letter case, so that
// generated objects reach the schemas' inner rules instead of failing at the first missing property.
const DECLARED_NAMES = [
  '$',
  'addressInfo',
  'addressType',
  'body',
  'conditionEndpoint',
  'contentType',
  'created',
  'creator',
  'data',
  'emailAddress',
  'fromAddress',
  'id',
  'ignoreReservation',
  'isReserved',
  'lastStatusCheck',
  'mobileNumber',
  'nationalIdentityNumber',
  'notificationChannel',
  'notificationId',
  'operationId',
  'organizationNumber',
  'recipients',
  'requestedSendTime',
  'resetTime',
  'resourceId',
  'schema',
  'sendResult',
  'senderNumber',
  'sendersReference',
  'sendingTimePolicy',
  'subject',
  'templates',
  'toAddress',
  'type',
] as const;

const propertyName = fc
  .tuple(fc.constantFrom(...DECLARED_NAMES), fc.boolean())
  .map(([name, upper]) => (upper ? name.toUpperCase() : name));

/** Objects shaped like the payloads: declared names (nested too) with arbitrary JSON values. */
const payloadLike: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; object: Record<string, unknown> }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.jsonValue({ maxDepth: 2 }),
      fc.uuid(),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      tie('object'),
      fc.array(tie('object'), { maxLength: 3 }),
    ),
    object: fc.dictionary(propertyName, tie('value'), { maxKeys: 8 }),
  }),
).object;

function expectOnlyContractViolations(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ContractViolationError)) throw error;
  }
}

describe.each(contracts.map((contract) => [contract.name, contract] as const))(
  '%s contract on arbitrary input',
  (_name, contract) => {
    it('parse: arbitrary text, bytes and JSON either parse or fail with a ContractViolationError', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
            fc.jsonValue().map((value) => JSON.stringify(value)),
            payloadLike.map((value) => JSON.stringify(value)),
            fc.constant(null),
          ),
          (raw) => expectOnlyContractViolations(() => contract.parse(raw)),
        ),
        { numRuns: 300 },
      );
    });

    it('validate: arbitrary values either validate or fail with a ContractViolationError', () => {
      fc.assert(
        fc.property(fc.oneof(fc.anything(), payloadLike), (value) =>
          expectOnlyContractViolations(() => contract.validate(value)),
        ),
        { numRuns: 300 },
      );
    });

    it('a message that parses serialises and parses back to itself', () => {
      fc.assert(
        fc.property(payloadLike, (value) => {
          let message: unknown;
          try {
            message = contract.validate(value);
          } catch (error) {
            if (error instanceof ContractViolationError) return;
            throw error;
          }
          expect(contract.parse(contract.serialize(message))).toEqual(message);
        }),
        { numRuns: 300 },
      );
    });
  },
);
