import { z } from 'zod';
import { ContractViolationError } from '../contract-violation.error';
import { GenericServiceUpdateSchema, type ServiceUpdateSource } from '../enums';
import { jsonContract, type MessageContract } from '../message-contract';
import { formatTimestamp } from '../timestamp';
import { nonEmptyString, toContractIssues, wireEnum, wireObject, wireTimestamp } from '../wire-schema';

const GenericServiceUpdateWireSchema = wireObject({
  // Any source is accepted (the topic is platform-wide); consumers ignore sources they do not handle.
  source: nonEmptyString,
  // The reference writes with WhenWritingDefault, so its default member 'Unkown' arrives as an absent property.
  schema: wireEnum(GenericServiceUpdateSchema).default('Unkown'),
  // A JSON document in a string, decoded per `schema` (see parseResourceLimitExceeded).
  data: z.string(),
});

/** A platform service update (`altinn.platform.service.updated`). */
export type GenericServiceUpdate = z.output<typeof GenericServiceUpdateWireSchema>;

// The reference serialises service updates indented (WriteIndented = true), unlike the other payloads.
export const GenericServiceUpdateContract: MessageContract<GenericServiceUpdate> = jsonContract(
  'GenericServiceUpdate',
  GenericServiceUpdateWireSchema,
  {
    indent: 2,
  },
);

// The source and resource names the reference email service uses; the orders side matches on them.
export const EMAIL_SERVICE_UPDATE_SOURCE: ServiceUpdateSource = 'platform-notifications-email';
export const ACS_EMAIL_RESOURCE = 'azure-communication-services-email';

const ResourceLimitExceededSchema = wireObject({
  resource: nonEmptyString,
  resetTime: wireTimestamp,
});

/** The `data` document of a `ResourceLimitExceeded` update: the resource is paused until `resetTime`. */
export type ResourceLimitExceeded = z.output<typeof ResourceLimitExceededSchema>;

/** The update `email-sender` publishes on ACS 429: sending pauses until `resetTime`. */
export function resourceLimitExceeded(resetTime: Date): GenericServiceUpdate {
  const data: ResourceLimitExceeded = { resource: ACS_EMAIL_RESOURCE, resetTime: formatTimestamp(resetTime) };
  return {
    source: EMAIL_SERVICE_UPDATE_SOURCE,
    schema: 'ResourceLimitExceeded',
    // Pretty-printed like the reference.
    data: JSON.stringify(data, null, 2),
  };
}

/** Decodes the `data` of a `ResourceLimitExceeded` update; throws ContractViolationError (paths under `data`). */
export function parseResourceLimitExceeded(update: GenericServiceUpdate): ResourceLimitExceeded {
  const fail = (path: string, message: string): never => {
    throw new ContractViolationError(GenericServiceUpdateContract.name, [{ path, message }]);
  };
  if (update.schema !== 'ResourceLimitExceeded') {
    fail('schema', `expected ResourceLimitExceeded, got ${JSON.stringify(update.schema)}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(update.data);
  } catch (error) {
    fail('data', `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = ResourceLimitExceededSchema.safeParse(document, { reportInput: true });
  if (!result.success) {
    const issues = toContractIssues(
      result.error.issues.map((issue) => ({ ...issue, path: ['data', ...issue.path] })),
    );
    throw new ContractViolationError(GenericServiceUpdateContract.name, issues);
  }
  return result.data;
}
