import { ConsumerGroups, Topics } from '@notifications/contracts';
import { statusPollerTopicNames, statusPollerTopics } from './status-poller-topics';

describe(statusPollerTopics.name, () => {
  it("uses the contracts' topics and one delay tier per interval", () => {
    const topics = statusPollerTopics([2_000, 4_000, 1_500]);
    expect(topics.sendingAccepted).toBe(Topics.emailSendingAccepted);
    expect(topics.statusUpdated).toBe(Topics.emailStatusUpdated);
    expect(topics.healthCheck).toBe(Topics.emailHealthCheck);
    expect(topics.groupId).toBe(ConsumerGroups.statusPoller);
    expect(topics.delayTiers.map((tier) => [tier.delayMs, tier.waitTopic, tier.topic.name])).toEqual([
      [
        1_500,
        'altinn.notifications.email.sending.accepted.delay.1500ms',
        'altinn.notifications.email.sending.accepted.delay.1500ms.unused',
      ],
      [
        2_000,
        'altinn.notifications.email.sending.accepted.delay.2s',
        'altinn.notifications.email.sending.accepted.delay.2s.unused',
      ],
      [
        4_000,
        'altinn.notifications.email.sending.accepted.delay.4s',
        'altinn.notifications.email.sending.accepted.delay.4s.unused',
      ],
    ]);
    // The tier is the registration's retry topic (gated by due time); dead letters go with the accepted topic's.
    expect(topics.delayTiers[0]!.topic.retryTopic).toBe(topics.delayTiers[0]!.waitTopic);
    expect(topics.delayTiers[0]!.topic.deadLetterTopic).toBe(Topics.emailSendingAccepted.deadLetterTopic);
  });

  it('isolates a test run by suffix, group included', () => {
    const topics = statusPollerTopics([2_000], { suffix: 'run1' });
    expect(topics.groupId).toBe('altinn.notifications.status-poller.run1');
    expect(statusPollerTopicNames(topics)).toEqual([
      'altinn.notifications.email.sending.accepted.run1',
      'altinn.notifications.email.sending.accepted.retry.run1',
      'altinn.notifications.email.sending.accepted.deadletter.run1',
      'altinn.notifications.email.sending.accepted.run1.delay.2s.unused',
      'altinn.notifications.email.sending.accepted.run1.delay.2s',
      'altinn.notifications.email.status.updated.run1',
      'altinn.notifications.email.health.check.run1',
    ]);
    expect(statusPollerTopics([2_000], { suffix: 'run1', groupId: 'g' }).groupId).toBe('g');
  });
});
