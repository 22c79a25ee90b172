import { type Email } from '@notifications/contracts';
import { type EmailTemplate } from './order.model';

// The reference's placeholder spellings.
const RECIPIENT_NAME = '$recipientName$';
const RECIPIENT_NUMBER = '$recipientNumber$';

export interface RecipientDetails {
  readonly name?: string;
  /** National identity number or organisation number. */
  readonly number?: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Replaces `$recipientName$` and `$recipientNumber$` with what the contact point knows (empty when it knows
 * nothing: a placeholder must never reach a recipient). Values are HTML-escaped in HTML bodies.
 */
export function personalise(text: string, recipient: RecipientDetails, html: boolean): string {
  if (!text.includes('$')) return text;
  const encode = html ? escapeHtml : (value: string): string => value;
  return text
    .replaceAll(RECIPIENT_NAME, encode(recipient.name ?? ''))
    .replaceAll(RECIPIENT_NUMBER, encode(recipient.number ?? ''));
}

export function personalisedEmail(
  notificationId: string,
  toAddress: string,
  template: EmailTemplate,
  recipient: RecipientDetails,
): Email {
  return {
    notificationId,
    // Subjects are plain text whatever the body's content type.
    subject: personalise(template.subject, recipient, false),
    body: personalise(template.body, recipient, template.contentType === 'Html'),
    fromAddress: template.fromAddress,
    toAddress,
    contentType: template.contentType,
  };
}
