import { z } from 'zod';
import { EmailContentType } from '../enums';
import { jsonContract, type MessageContract } from '../message-contract';
import { wireEnum, wireObject, wireUuid } from '../wire-schema';

// Free-text fields are not checked further: a malformed address must reach the sender and come back as
// Failed_InvalidEmailFormat, not be dead-lettered as a contract violation.
const EmailSchema = wireObject({
  notificationId: wireUuid,
  subject: z.string(),
  body: z.string(),
  fromAddress: z.string(),
  toAddress: z.string(),
  contentType: wireEnum(EmailContentType),
});

/** One personalised email to send (`email.queue`). */
export type Email = z.output<typeof EmailSchema>;

export const EmailContract: MessageContract<Email> = jsonContract('Email', EmailSchema);
