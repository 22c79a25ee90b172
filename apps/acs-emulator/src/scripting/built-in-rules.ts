import type { Rule } from './rule.schema';

/**
 * Demo addresses that work without any set-up. They are evaluated after the rules installed through the admin
 * API or `ACS_RULES` (so those override them) and can be switched off (`ACS_BUILT_IN_RULES=false`).
 * `.test` is reserved (RFC 2606): these domains can never be real mailboxes.
 */
export const BUILT_IN_RULES: readonly Rule[] = [
  { id: 'builtin:bounce', match: '*@bounce.test', behaviour: { type: 'succeed', deliveryReport: 'Bounced' } },
  {
    id: 'builtin:quarantine',
    match: '*@quarantine.test',
    behaviour: { type: 'succeed', deliveryReport: 'Quarantined' },
  },
  {
    id: 'builtin:spam',
    match: '*@spam.test',
    behaviour: { type: 'succeed', deliveryReport: 'FilteredSpam' },
  },
  { id: 'builtin:suppressed', match: '*@suppressed.test', behaviour: { type: 'suppress' } },
  { id: 'builtin:fail', match: '*@fail.test', behaviour: { type: 'fail' } },
  { id: 'builtin:invalid', match: '*@invalid.test', behaviour: { type: 'invalidAddress' } },
  { id: 'builtin:throttle', match: '*@throttle.test', behaviour: { type: 'throttle', retryAfterSeconds: 2 } },
  { id: 'builtin:error', match: '*@error.test', behaviour: { type: 'serverError', status: 503 } },
  { id: 'builtin:slow', match: '*@slow.test', behaviour: { type: 'succeed', responseDelayMs: 3000 } },
  { id: 'builtin:drop', match: '*@drop.test', behaviour: { type: 'drop' } },
];
