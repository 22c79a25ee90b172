/**
 * Personal data that must never leave a message through error text (logs, dead-letter and retry headers,
 * `/stats`): email addresses (recipients, and whatever ACS or a parser echoes back) and Norwegian national
 * identity / D-numbers (11 digits, `nationalIdentityNumber` in orders). Bodies never appear in error text in
 * the first place; the loggers summarise `body` fields by length (libs/observability).
 *
 * Deliberately broad: an 11-digit number that is not an identity number is masked too, which costs a log reader
 * little and never lets a real one through.
 */
// Not right after `/` or another address character, so that `scheme://user@host` (no personal data) stays.
const EMAIL_ADDRESS = /(?<![/\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
// A run of exactly 11 digits standing alone: not inside a longer word such as a hex trace id or a UUID segment.
const IDENTITY_NUMBER = /(?<![0-9A-Za-z])\d{11}(?![0-9A-Za-z])/g;

export const MASKED_EMAIL = '<email>';
export const MASKED_IDENTITY_NUMBER = '<identity-number>';

/** `text` with email addresses and identity numbers replaced by placeholders. */
export function maskPersonalData(text: string): string {
  if (!text.includes('@') && !/\d{11}/.test(text)) return text;
  return text.replace(EMAIL_ADDRESS, MASKED_EMAIL).replace(IDENTITY_NUMBER, MASKED_IDENTITY_NUMBER);
}
