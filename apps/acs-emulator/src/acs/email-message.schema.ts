import { z } from 'zod';

/** ACS refuses a message with more recipients than this (to + cc + bcc). */
export const MAX_RECIPIENTS = 50;

const emailAddress = z.object({
  address: z.string({ error: 'address is required' }),
  displayName: z.string().optional(),
});
export type EmailAddress = z.infer<typeof emailAddress>;

/**
 * The `EmailMessage` body of `POST /emails:send` (ACS REST API 2025-09-01). Unknown properties are ignored, as a
 * service tolerating newer clients would.
 */
export const emailMessageSchema = z.object({
  senderAddress: z.string({ error: 'senderAddress is required' }).trim().min(1, 'senderAddress is required'),
  content: z.object(
    {
      subject: z.string({ error: 'content.subject is required' }),
      plainText: z.string().optional(),
      html: z.string().optional(),
    },
    { error: 'content is required' },
  ),
  recipients: z.object(
    {
      to: z
        .array(emailAddress, { error: 'recipients.to is required' })
        .min(1, 'recipients.to must contain at least one address'),
      cc: z.array(emailAddress).optional(),
      bcc: z.array(emailAddress).optional(),
    },
    { error: 'recipients is required' },
  ),
  attachments: z
    .array(z.object({ name: z.string(), contentType: z.string(), contentInBase64: z.string() }))
    .optional(),
  replyTo: z.array(emailAddress).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  userEngagementTrackingDisabled: z.boolean().optional(),
});
export type EmailMessage = z.infer<typeof emailMessageSchema>;

/** Every recipient address (to, cc, bcc), as sent. */
export function recipientAddresses(message: EmailMessage): string[] {
  const { to, cc = [], bcc = [] } = message.recipients;
  return [...to, ...cc, ...bcc].map((recipient) => recipient.address);
}

// Deliberately plain: a local part without spaces or specials, and a dotted domain of letters, digits and
// hyphens. Addresses like `user@localhost` are refused, as ACS refuses them.
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,}$/;

export function isValidEmailAddress(address: string): boolean {
  return address.length <= 254 && ADDRESS.test(address);
}

/** The first address of the message that ACS would refuse, if any. */
export function firstInvalidAddress(message: EmailMessage): string | undefined {
  return [...recipientAddresses(message), ...(message.replyTo ?? []).map((reply) => reply.address)].find(
    (address) => !isValidEmailAddress(address),
  );
}
