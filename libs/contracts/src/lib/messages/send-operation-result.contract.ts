import { z } from 'zod';
import { EmailSendResult } from '../enums';
import { jsonContract, type MessageContract } from '../message-contract';
import { wireEnum, wireObject, wireUuid } from '../wire-schema';

// Older reference writers had a non-nullable Guid here and wrote the nil UUID in delivery reports.
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const SendOperationResultSchema = z.preprocess(
  (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const entries = Object.entries(value).filter(
      ([name, v]) => !(name.toLowerCase() === 'notificationid' && typeof v === 'string' && v === NIL_UUID),
    );
    return Object.fromEntries(entries);
  },
  wireObject({
    // Absent in delivery reports, which carry only the operation id.
    notificationId: wireUuid.optional(),
    // The empty string when the send itself failed (there is no ACS operation).
    operationId: z.string(),
    sendResult: wireEnum(EmailSendResult),
  }).refine((result) => result.notificationId !== undefined || result.operationId !== '', {
    path: ['notificationId'],
    error: 'required when operationId is empty (the result could not be matched to a notification)',
  }),
);

/** The outcome of a send, a status poll or a delivery report (`email.status.updated`). */
export type SendOperationResult = z.output<typeof SendOperationResultSchema>;

export const SendOperationResultContract: MessageContract<SendOperationResult> = jsonContract(
  'SendOperationResult',
  SendOperationResultSchema,
);
