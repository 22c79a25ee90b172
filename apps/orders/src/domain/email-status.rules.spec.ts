import { type EmailNotificationResultType, type EmailSendResult } from '@notifications/contracts';
import { decideTransition, decideWithheld } from './email-status.rules';
import { haltCounts } from './order.model';

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

describe('halted orders', () => {
  const cases: [EmailNotificationResultType, EmailSendResult, boolean, string][] = [
    // A send result replaces Cancelled: the email did reach ACS after all.
    ['Cancelled', 'Succeeded', false, 'set Succeeded'],
    ['Cancelled', 'Delivered', false, 'set Delivered'],
    ['Cancelled', 'Failed_Bounced', false, 'set Failed_Bounced'],
    ['Cancelled', 'Failed_InvalidEmailFormat', false, 'set Failed_InvalidEmailFormat'],
    // Not sent: Cancelled stays.
    ['Cancelled', 'Failed_TransientError', false, 'ignore'],
    ['Cancelled', 'Sending', false, 'ignore'],
    // A transient failure in a halted order is never sent again.
    ['Sending', 'Failed_TransientError', false, 'set Cancelled'],
    ['Sending', 'Failed_TransientError', true, 'set Cancelled'],
    // Everything else is as in any order.
    ['Sending', 'Succeeded', false, 'set Succeeded'],
    ['Succeeded', 'Delivered', false, 'set Delivered'],
    ['Delivered', 'Failed_Bounced', false, 'ignore'],
  ];

  it.each(cases)('%s + %s (expired: %s, halted) → %s', (current, incoming, expired, expected) => {
    const decision = decideTransition(current, incoming, expired, true);
    const summary = decision.kind === 'set' ? `set ${decision.result}` : decision.kind;
    expect(summary).toBe(expected);
  });

  it('a Cancelled notification of an order that was not halted also yields to a send result', () => {
    expect(decideTransition('Cancelled', 'Delivered', false, false)).toEqual({
      kind: 'set',
      result: 'Delivered',
    });
  });
});

describe(decideWithheld.name, () => {
  it.each<[EmailNotificationResultType, string]>([
    ['New', 'set Cancelled'],
    ['Sending', 'set Cancelled'],
    ['Cancelled', 'ignore'],
    ['Succeeded', 'ignore'],
    ['Delivered', 'ignore'],
    ['Failed_Bounced', 'ignore'],
    ['Failed_TTL', 'ignore'],
  ])('%s → %s (a withheld report never replaces a result of its own)', (current, expected) => {
    const decision = decideWithheld(current);
    expect(decision.kind === 'set' ? `set ${decision.result}` : decision.kind).toBe(expected);
  });
});

describe(haltCounts.name, () => {
  it('splits the notifications into sent, withheld and in flight', () => {
    expect(haltCounts({ generated: 10, succeeded: 3, cancelled: 4, unsent: 2 })).toEqual({
      sent: 4,
      withheld: 4,
      inFlight: 2,
    });
  });
});
