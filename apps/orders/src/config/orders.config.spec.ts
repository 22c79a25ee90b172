import { ConfigError } from '@notifications/config';
import { DEFAULT_DEV_KEY_FILE, loadOrdersConfig } from './orders.config';

const PEM =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';

describe(loadOrdersConfig.name, () => {
  it('runs on its defaults in development: port 5090, dev key, local contact points, 1 s scheduler', () => {
    const config = loadOrdersConfig({});
    expect(config.env).toBe('development');
    expect(config.http.port).toBe(5090);
    expect(config.auth.key).toEqual({ kind: 'dev', devKeyFile: DEFAULT_DEV_KEY_FILE });
    expect(config.auth.requiredScope).toBe('altinn:serviceowner/notifications.create');
    expect(config.contactPoints.source).toBe('local');
    expect(config.scheduler).toMatchObject({
      enabled: true,
      pastDueIntervalMs: 250,
      emailPublishIntervalMs: 250,
    });
    expect(config.notifications).toMatchObject({
      fromAddress: 'noreply@altinn.cloud',
      expiryMs: 48 * 3_600_000,
    });
    expect(Object.isFrozen(config.scheduler)).toBe(true);
  });

  it('has no default signing key in production and names every missing setting at once', () => {
    let error: unknown;
    try {
      loadOrdersConfig({ APP_ENV: 'production', ORDERS_CLAIM_BATCH_SIZE: '0' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'AUTH_JWT_PUBLIC_KEY',
      'CONTACT_POINTS_BASE_URL',
      'KAFKA_SSL',
      'KAFKA_TOPIC_REPLICATION_FACTOR',
      'ORDERS_CLAIM_BATCH_SIZE',
    ]);
    expect((error as ConfigError).message).toMatch(/AUTH_JWT_PUBLIC_KEY: required in production/);
  });

  it('takes a PEM key (with escaped newlines) or a JWKS URL in production', () => {
    // Production also refuses plaintext Kafka and replication factor 1 (libs/config kafkaSettings).
    const safeKafka = { KAFKA_SSL: 'true', KAFKA_TOPIC_REPLICATION_FACTOR: '3' };
    const withPem = loadOrdersConfig({
      ...safeKafka,
      APP_ENV: 'production',
      AUTH_JWT_PUBLIC_KEY: PEM.replace(/\n/g, '\\n'),
      CONTACT_POINTS_BASE_URL: 'https://platform.example/profile/api/v1/',
    });
    expect(withPem.auth.key).toEqual({ kind: 'pem', publicKeyPem: PEM });
    expect(withPem.contactPoints).toMatchObject({
      source: 'http',
      baseUrl: 'https://platform.example/profile/api/v1/',
    });
    const withJwks = loadOrdersConfig({
      ...safeKafka,
      APP_ENV: 'production',
      AUTH_JWKS_URL: 'https://issuer.example/jwks',
      CONTACT_POINTS_SOURCE: 'local',
    });
    expect(withJwks.auth.key).toEqual({ kind: 'jwks', jwksUrl: 'https://issuer.example/jwks' });
    expect(withJwks.contactPoints.source).toBe('local');
  });

  it('refuses a key that is not a PEM public key, or both kinds of key', () => {
    expect(() => loadOrdersConfig({ AUTH_JWT_PUBLIC_KEY: 'secret' })).toThrow(
      /AUTH_JWT_PUBLIC_KEY: expected a PEM/,
    );
    expect(() =>
      loadOrdersConfig({ AUTH_JWT_PUBLIC_KEY: PEM, AUTH_JWKS_URL: 'https://issuer.example/jwks' }),
    ).toThrow(/AUTH_JWKS_URL: set either/);
  });

  it('reads durations and sizes', () => {
    const config = loadOrdersConfig({
      ORDERS_PASTDUE_INTERVAL: '750ms',
      ORDERS_NOTIFICATION_EXPIRY: '2d',
      ORDERS_RELAY_START_DELAY_MS: '1500ms',
      ORDERS_OUTBOX_RELAY_CONCURRENCY: '4',
      ORDERS_PUBLIC_BASE_URL: 'https://platform.example/',
    });
    expect(config.scheduler.pastDueIntervalMs).toBe(750);
    expect(config.scheduler.relayStartDelayMs).toBe(1_500);
    expect(config.scheduler.outboxRelayConcurrency).toBe(4);
    expect(config.notifications.expiryMs).toBe(2 * 86_400_000);
    expect(config.api.publicBaseUrl).toBe('https://platform.example');
  });
});
