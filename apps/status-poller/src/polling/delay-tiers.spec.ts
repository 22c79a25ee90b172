import { Topics, topicCatalog } from '@notifications/contracts';
import { DelayTiers, statusPollerTopicNames } from './delay-tiers';

describe(DelayTiers.name, () => {
  it('makes one gated delay topic per interval, without placeholder or retry topics', () => {
    const tiers = new DelayTiers(Topics.emailSendingAccepted, [2_000, 4_000, 1_500, 2_000]);
    expect(tiers.tiers.map((tier) => [tier.delayMs, tier.topic.name])).toEqual([
      [1_500, 'altinn.notifications.email.sending.accepted.delay.1500ms'],
      [2_000, 'altinn.notifications.email.sending.accepted.delay.2s'],
      [4_000, 'altinn.notifications.email.sending.accepted.delay.4s'],
    ]);
    expect(tiers.tiers[0]!.topic.retryTopic).toBeUndefined();
    expect(tiers.tiers[0]!.topic.deadLetterTopic).toBe(Topics.emailSendingAccepted.deadLetterTopic);
    expect(tiers.bindings()[1]).toMatchObject({
      gatedByDueAt: true,
      retryPolicy: { initialDelayMs: 2_000, maxDelayMs: 2_000, multiplier: 1 },
    });
  });

  it("lists a suffixed deployment's topics", () => {
    const catalog = topicCatalog('run1');
    expect(statusPollerTopicNames(catalog, new DelayTiers(catalog.emailSendingAccepted, [2_000]))).toEqual([
      'altinn.notifications.email.sending.accepted.run1',
      'altinn.notifications.email.sending.accepted.retry.run1',
      'altinn.notifications.email.sending.accepted.deadletter.run1',
      'altinn.notifications.email.sending.accepted.run1.delay.2s',
      'altinn.notifications.email.status.updated.run1',
      'altinn.notifications.email.health.check.run1',
    ]);
  });
});
