import { type EmailNotificationResultType, type EmailSendResult } from '@notifications/contracts';
import { decideTransition } from './email-status.rules';

describe(decideTransition.name, () => {
  const cases: [EmailNotificationResultType, EmailSendResult, boolean, string][] = [
    ['Sending', 'Succeeded', false, 'set Succeeded'],
    ['New', 'Succeeded', false, 'set Succeeded'],
    ['Succeeded', 'Succeeded', false, 'ignore'],
    ['Sending', 'Delivered', false, 'set Delivered'],
    ['Succeeded', 'Delivered', false, 'set Delivered'],
    ['Delivered', 'Succeeded', false, 'ignore'],
    ['Delivered', 'Failed_Bounced', false, 'ignore'],
    ['Failed_Bounced', 'Delivered', false, 'ignore'],
    ['Succeeded', 'Failed_Bounced', false, 'set Failed_Bounced'],
    ['Sending', 'Failed_InvalidEmailFormat', false, 'set Failed_InvalidEmailFormat'],
    ['Sending', 'Failed_SupressedRecipient', false, 'set Failed_SupressedRecipient'],
    ['Sending', 'Failed', false, 'set Failed'],
    ['Sending', 'Failed_TransientError', false, 'resend'],
    ['Sending', 'Failed_TransientError', true, 'set Failed_TransientError'],
    ['New', 'Failed_TransientError', false, 'ignore'],
    ['Succeeded', 'Failed_TransientError', false, 'ignore'],
    ['Sending', 'Sending', false, 'ignore'],
    ['Failed_TTL', 'Delivered', false, 'ignore'],
    ['Failed_RecipientReserved', 'Succeeded', false, 'ignore'],
  ];

  it.each(cases)('%s + %s (expired: %s) → %s', (current, incoming, expired, expected) => {
    const decision = decideTransition(current, incoming, expired);
    const summary = decision.kind === 'set' ? `set ${decision.result}` : decision.kind;
    expect(summary).toBe(expected);
  });
});
