import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Email, EmailContract } from './messages/email.contract';
import { resourceLimitExceeded } from './messages/generic-service-update.contract';
import { HEALTH_CHECK_PAYLOAD } from './messages/health-check.contract';
import { type NotificationOrder } from './messages/notification-order.contract';
import { type SendOperationResult } from './messages/send-operation-result.contract';
import {
  ALL_TOPICS,
  allTopicNames,
  CONSUMER_GROUP_PREFIX,
  ConsumerGroups,
  consumerGroups,
  deadLetterTopicFor,
  defineRetryTopic,
  defineTopic,
  retryTopicFor,
  topicCatalog,
  type TopicDefinition,
  TOPIC_PREFIXES,
  Topics,
} from './topics';

const notificationId = '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11';
const operationId = 'acs-operation-1';

const order: NotificationOrder = {
  id: '0e6f1a52-8d3c-4b7e-a1f9-3c2d5e4b6a70',
  requestedSendTime: '2026-03-16T08:00:00Z',
  notificationChannel: 'Email',
  creator: { shortName: 'skd' },
  created: '2026-03-15T12:30:00Z',
  type: 'Notification',
  templates: [],
  recipients: [],
};
const email: Email = {
  notificationId,
  subject: 's',
  body: 'b',
  fromAddress: 'noreply@altinn.cloud',
  toAddress: 'a@example.com',
  contentType: 'Plain',
};

// Type-level checks: publishing is type-checked per topic.
const _typedTopic: TopicDefinition<NotificationOrder> = Topics.ordersPastDue;
// @ts-expect-error an Email is not a NotificationOrder, so it cannot be written to orders.pastdue
const _wrongPayload = (): string => Topics.ordersPastDue.contract.serialize(email);

describe('Topics', () => {
  describe('keyOf', () => {
    it('keys health checks with nothing', () => {
      expect(Topics.healthCheck.keyOf(HEALTH_CHECK_PAYLOAD)).toBeUndefined();
      expect(Topics.emailHealthCheck.keyOf(HEALTH_CHECK_PAYLOAD)).toBeUndefined();
    });

    it('keys orders by order id', () => {
      expect(Topics.ordersPastDue.keyOf(order)).toBe(order.id);
      expect(Topics.ordersPastDueRetry.keyOf(order)).toBe(order.id);
    });

    it('keys emails and accepted operations by notification id', () => {
      const accepted = { notificationId, operationId, lastStatusCheck: '2026-03-16T08:00:04Z' };

      expect(Topics.emailQueue.keyOf(email)).toBe(notificationId);
      expect(Topics.emailQueueRetry.keyOf(email)).toBe(notificationId);
      expect(Topics.emailSendingAccepted.keyOf(accepted)).toBe(notificationId);
      expect(Topics.emailSendingAcceptedRetry.keyOf(accepted)).toBe(notificationId);
    });

    it.each<[string, SendOperationResult, string | undefined]>([
      ['the notification id', { notificationId, operationId, sendResult: 'Succeeded' }, notificationId],
      [
        'the notification id of a failed send',
        { notificationId, operationId: '', sendResult: 'Failed' },
        notificationId,
      ],
      ['the operation id of a delivery report', { operationId, sendResult: 'Delivered' }, operationId],
      ['nothing when there is neither', { operationId: '', sendResult: 'Failed' }, undefined],
    ])('keys status updates by %s', (_, result, key) => {
      expect(Topics.emailStatusUpdated.keyOf(result)).toBe(key);
      expect(Topics.emailStatusUpdatedRetry.keyOf(result)).toBe(key);
    });

    it('keys service updates by source', () => {
      const update = resourceLimitExceeded(new Date());

      expect(Topics.platformServiceUpdated.keyOf(update)).toBe('platform-notifications-email');
      expect(Topics.platformServiceUpdatedRetry.keyOf(update)).toBe('platform-notifications-email');
    });
  });

  it('names retry and dead-letter topics after their main topic', () => {
    expect(Topics.ordersPastDue.retryTopic).toBe('altinn.notifications.orders.pastdue.retry');
    expect(Topics.ordersPastDue.deadLetterTopic).toBe('altinn.notifications.orders.pastdue.deadletter');
    expect(Topics.emailQueue.retryTopic).toBe('altinn.notifications.email.queue.retry');
    expect(Topics.emailSendingAccepted.retryTopic).toBe('altinn.notifications.email.sending.accepted.retry');
    expect(Topics.emailStatusUpdated.retryTopic).toBe('altinn.notifications.email.status.updated.retry');
    expect(Topics.emailStatusUpdated.deadLetterTopic).toBe(
      'altinn.notifications.email.status.updated.deadletter',
    );
    expect(Topics.healthCheck.retryTopic).toBeUndefined();
    expect(Topics.healthCheck.deadLetterTopic).toBe('altinn.notifications.health.check.deadletter');
  });

  it('keeps the retry and dead-letter topics of the platform topic under altinn.notifications.', () => {
    expect(Topics.platformServiceUpdated.name).toBe('altinn.platform.service.updated');
    expect(Topics.platformServiceUpdated.retryTopic).toBe(
      'altinn.notifications.platform.service.updated.retry',
    );
    expect(Topics.platformServiceUpdated.deadLetterTopic).toBe(
      'altinn.notifications.platform.service.updated.deadletter',
    );
  });

  it.each([
    ['ordersPastDue', 'ordersPastDueRetry'],
    ['emailQueue', 'emailQueueRetry'],
    ['emailSendingAccepted', 'emailSendingAcceptedRetry'],
    ['emailStatusUpdated', 'emailStatusUpdatedRetry'],
    ['platformServiceUpdated', 'platformServiceUpdatedRetry'],
  ] as const)(
    'defines %s and its retry topic %s alike, without a retry of the retry',
    (mainKey, retryKey) => {
      const main: TopicDefinition<unknown> = Topics[mainKey];
      const retry: TopicDefinition<unknown> = Topics[retryKey];

      expect(retry.name).toBe(main.retryTopic);
      expect(retry.retryTopic).toBeUndefined();
      expect(retry.deadLetterTopic).toBe(main.deadLetterTopic);
      expect(retry.contract).toBe(main.contract);
    },
  );

  it('puts every topic under altinn.notifications. or altinn.platform.', () => {
    for (const name of allTopicNames()) {
      expect(name).toMatch(/^altinn\.(notifications|platform)\./);
    }
  });

  it('names every topic (suffixed too) and consumer group under the prefixes the ACLs grant', () => {
    const underTopicPrefix = (name: string): boolean =>
      TOPIC_PREFIXES.some((prefix) => name.startsWith(prefix));
    const catalogs = [Topics, topicCatalog('e2e-1')];
    const names = catalogs.flatMap((catalog) => allTopicNames(Object.values(catalog)));

    expect(names.filter((name) => !underTopicPrefix(name))).toEqual([]);
    expect(
      [...Object.values(ConsumerGroups), ...Object.values(consumerGroups('e2e-1'))].filter(
        (group) => !group.startsWith(CONSUMER_GROUP_PREFIX),
      ),
    ).toEqual([]);
  });

  it('creates topics of its own only under altinn.notifications.', () => {
    const own = allTopicNames().filter((name) => name !== 'altinn.platform.service.updated');

    expect(own.filter((name) => !name.startsWith('altinn.notifications.'))).toEqual([]);
  });

  it('defines every topic once', () => {
    const names = ALL_TOPICS.map((topic) => topic.name);

    expect(new Set(names).size).toBe(names.length);
    expect(ALL_TOPICS).toHaveLength(Object.keys(Topics).length);
  });

  it('lists every name to provision once: 15 topics and 9 dead-letter topics', () => {
    const names = allTopicNames();

    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(24);
    expect(names).toEqual(expect.arrayContaining(ALL_TOPICS.map((topic) => topic.deadLetterTopic)));
  });

  it('has one consumer group per app (orders a second for its intake), under altinn.notifications.', () => {
    expect(ConsumerGroups).toEqual({
      orders: 'altinn.notifications.orders',
      ordersIntake: 'altinn.notifications.orders-intake',
      emailSender: 'altinn.notifications.email-sender',
      statusPoller: 'altinn.notifications.status-poller',
    });
  });

  it('matches the topic table of the README', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const rows = readme
      .split('\n')
      .filter((line) => /^\|\s*`[a-zA-Z]+`\s*\|\s*`altinn\./.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim().replace(/`/g, '')));
    const table = rows.map(([, key, name, payload, , retry, deadLetter]) => ({
      key,
      name,
      payload,
      retry,
      deadLetter,
    }));

    expect(table).toEqual(
      Object.entries(Topics).map(([key, topic]: [string, TopicDefinition<unknown>]) => ({
        key,
        name: topic.name,
        payload: topic.contract.name,
        retry: topic.retryTopic ?? '–',
        deadLetter: topic.deadLetterTopic,
      })),
    );
  });
});

describe(defineTopic.name, () => {
  it('declares a throw-away topic, keyless with a .deadletter topic by default', () => {
    const topic = defineTopic({ name: 'test.contracts.x1', contract: EmailContract });

    expect(topic).toMatchObject({
      name: 'test.contracts.x1',
      deadLetterTopic: 'test.contracts.x1.deadletter',
    });
    expect(topic.retryTopic).toBeUndefined();
    expect(topic.keyOf(email)).toBeUndefined();
    expect(Object.isFrozen(topic)).toBe(true);
  });

  it('takes a key, a retry topic and a dead-letter topic', () => {
    const topic = defineTopic<Email>({
      name: 'test.contracts.x2',
      contract: EmailContract,
      keyOf: (message) => message.notificationId,
      retryTopic: 'test.contracts.x2.again',
      deadLetterTopic: 'test.contracts.x2.dead',
    });

    expect(topic.keyOf(email)).toBe(notificationId);
    expect(allTopicNames([topic])).toEqual([
      'test.contracts.x2',
      'test.contracts.x2.again',
      'test.contracts.x2.dead',
    ]);
  });

  it.each(['', 'has space', 'a/b', 'x'.repeat(250)])('rejects the illegal topic name %j', (name) => {
    expect(() => defineTopic({ name, contract: EmailContract })).toThrow(/not a legal Kafka topic name/);
  });

  it('rejects a retry or dead-letter topic that is the topic itself', () => {
    expect(() => defineTopic({ name: 't', contract: EmailContract, retryTopic: 't' })).toThrow(/must differ/);
    expect(() => defineTopic({ name: 't', contract: EmailContract, deadLetterTopic: 't' })).toThrow(
      /must differ/,
    );
  });
});

describe(defineRetryTopic.name, () => {
  it('refuses a topic without a retry topic', () => {
    expect(() => defineRetryTopic(Topics.healthCheck)).toThrow(/no retry topic/);
  });
});

describe(deadLetterTopicFor.name, () => {
  it('appends .deadletter, moving altinn.platform. topics under altinn.notifications.', () => {
    expect(deadLetterTopicFor('altinn.notifications.email.queue')).toBe(
      'altinn.notifications.email.queue.deadletter',
    );
    expect(deadLetterTopicFor('altinn.platform.service.updated')).toBe(
      'altinn.notifications.platform.service.updated.deadletter',
    );
  });
});

describe(retryTopicFor.name, () => {
  it('appends .retry, moving altinn.platform. topics under altinn.notifications.', () => {
    expect(retryTopicFor('altinn.notifications.orders.pastdue')).toBe(
      'altinn.notifications.orders.pastdue.retry',
    );
    expect(retryTopicFor('altinn.platform.service.updated')).toBe(
      'altinn.notifications.platform.service.updated.retry',
    );
  });
});

describe(topicCatalog.name, () => {
  it('is the reference catalog without a suffix', () => {
    expect(topicCatalog()).toBe(Topics);
    expect(consumerGroups()).toBe(ConsumerGroups);
  });

  it('appends the suffix to every topic, retry topic, dead-letter topic and consumer group', () => {
    const catalog = topicCatalog('e2e-1');

    expect(catalog.emailQueue.name).toBe('altinn.notifications.email.queue.e2e-1');
    expect(catalog.emailQueue.retryTopic).toBe('altinn.notifications.email.queue.retry.e2e-1');
    expect(catalog.emailQueue.deadLetterTopic).toBe('altinn.notifications.email.queue.deadletter.e2e-1');
    expect(catalog.emailQueueRetry.name).toBe('altinn.notifications.email.queue.retry.e2e-1');
    expect(catalog.platformServiceUpdated.name).toBe('altinn.platform.service.updated.e2e-1');
    expect(catalog.platformServiceUpdated.deadLetterTopic).toBe(
      'altinn.notifications.platform.service.updated.deadletter.e2e-1',
    );
    expect(consumerGroups('e2e-1').emailSender).toBe('altinn.notifications.email-sender.e2e-1');
    for (const topic of Object.values(catalog)) expect(topic.name.endsWith('.e2e-1')).toBe(true);
  });

  it('keeps keys and contracts', () => {
    const email = topicCatalog('x').emailQueue;

    expect(email.contract).toBe(Topics.emailQueue.contract);
    expect(email.keyOf({ notificationId: 'n-1' } as Email)).toBe('n-1');
  });

  it.each(['', 'has space', 'a.b', 'x'.repeat(61)])('rejects the suffix %j', (suffix) => {
    expect(() => topicCatalog(suffix)).toThrow(/Topic suffix/);
  });
});
