import { type z } from 'zod';
import { jsonContract, type MessageContract } from '../message-contract';
import { nonEmptyString, wireObject, wireTimestamp, wireUuid } from '../wire-schema';

const SendNotificationOperationIdentifierSchema = wireObject({
  notificationId: wireUuid,
  // An ACS operation id; this project sends with Operation-Id = notification id, but any id is accepted.
  operationId: nonEmptyString,
  lastStatusCheck: wireTimestamp,
});

/** An accepted ACS send operation to poll (`email.sending.accepted`). */
export type SendNotificationOperationIdentifier = z.output<typeof SendNotificationOperationIdentifierSchema>;

export const SendNotificationOperationIdentifierContract: MessageContract<SendNotificationOperationIdentifier> =
  jsonContract('SendNotificationOperationIdentifier', SendNotificationOperationIdentifierSchema);
