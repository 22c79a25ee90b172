import { CONSUMER_GROUP_PREFIX, TOPIC_PREFIXES } from '@notifications/contracts';
import { newClusterId, notificationsAcls, saslOverrides, SASL_USERS } from './kafka-broker';

describe(notificationsAcls.name, () => {
  it('grants on the topic and group prefixes of libs/contracts, never a literal name', () => {
    const acls = notificationsAcls();

    expect(new Set(acls.filter((acl) => acl.resourceType === 'TOPIC').map((acl) => acl.name))).toEqual(
      new Set(TOPIC_PREFIXES),
    );
    expect(acls.filter((acl) => acl.resourceType === 'GROUP')).toEqual([
      {
        principal: 'notifications-consumer',
        resourceType: 'GROUP',
        name: CONSUMER_GROUP_PREFIX,
        operation: 'READ',
      },
    ]);
    expect(acls.every((acl) => acl.pattern === undefined)).toBe(true);
  });

  it('lets only admin create topics, the producer write and the consumer read', () => {
    const operations = (principal: string): string[] =>
      [
        ...new Set(
          notificationsAcls()
            .filter((acl) => acl.principal === principal)
            .map((acl) => acl.operation),
        ),
      ].sort();

    expect(operations('admin')).toEqual(['CREATE', 'DESCRIBE', 'DESCRIBE_CONFIGS']);
    expect(operations('notifications-producer')).toEqual(['WRITE']);
    expect(operations('notifications-consumer')).toEqual(['READ']);
  });
});

describe(saslOverrides.name, () => {
  it('turns the authorizer on, with every SASL user on the PLAIN listener and the given super users', () => {
    const overrides = saslOverrides({
      listeners: ['PLAINTEXT://127.0.0.1:1', 'SASL_PLAINTEXT://127.0.0.1:2'],
      users: SASL_USERS,
      superUsers: ['admin', 'ANONYMOUS'],
    });

    expect(overrides.get('allow.everyone.if.no.acl.found')).toBe('false');
    expect(overrides.get('super.users')).toBe('User:admin;User:ANONYMOUS');
    for (const user of SASL_USERS) {
      expect(overrides.get('listener.name.sasl_plaintext.plain.sasl.jaas.config')).toContain(
        `user_${user.username}="${user.password}"`,
      );
    }
  });
});

describe(newClusterId.name, () => {
  it('never starts an id with "-", which the storage tool would read as an option', () => {
    // One random base64url id in 64 starts with '-': among 2 000, some would (all but certainly) without the check.
    const ids = Array.from({ length: 2_000 }, () => newClusterId());

    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
