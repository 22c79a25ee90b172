import { ConfigError, DEFAULT_DEV_KEY_FILE } from '@notifications/config';
import { loadOrdersConfig } from './orders.config';

// A production configuration that passes every production rule (tokens, and Kafka over TLS with replication 3).
const PRODUCTION_AUTH = {
  APP_ENV: 'production',
  KAFKA_SSL: 'true',
  KAFKA_TOPIC_REPLICATION_FACTOR: '3',
  AUTH_JWKS_URL: 'https://issuer.example/jwks',
  AUTH_JWT_ISSUER: 'https://issuer.example',
  AUTH_JWT_AUDIENCE: 'notifications',
  OPERATOR_AUTH_JWKS_URL: 'https://operators.example/jwks',
  OPERATOR_AUTH_JWT_ISSUER: 'https://operators.example',
  OPERATOR_AUTH_JWT_AUDIENCE: 'notifications-operators',
};

const PEM =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';

describe(loadOrdersConfig.name, () => {
  it('runs on its defaults in development: port 5090, dev key, local contact points, 250 ms scheduler', () => {
    const config = loadOrdersConfig({});
    expect(config.env).toBe('development');
    expect(config.http.port).toBe(5090);
    expect(config.auth.key).toEqual({ kind: 'dev', devKeyFile: DEFAULT_DEV_KEY_FILE });
    expect(config.auth.requiredScope).toBe('altinn:serviceowner/notifications.create');
    // The management listener: port + 100 on loopback, operator tokens of the same development key.
    expect(config.management.listener).toEqual({ port: 5190, host: '127.0.0.1' });
    expect(config.management.operatorAuth).toMatchObject({
      key: { kind: 'dev', devKeyFile: DEFAULT_DEV_KEY_FILE },
      requiredScope: 'altinn:notifications.operator',
    });
    expect(config.api.docsEnabled).toBe(true);
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
      'AUTH_JWKS_URL',
      'AUTH_JWT_AUDIENCE',
      'AUTH_JWT_ISSUER',
      'CONTACT_POINTS_BASE_URL',
      'KAFKA_SSL',
      'KAFKA_TOPIC_REPLICATION_FACTOR',
      'OPERATOR_AUTH_JWKS_URL',
      'OPERATOR_AUTH_JWT_AUDIENCE',
      'OPERATOR_AUTH_JWT_ISSUER',
      'ORDERS_CLAIM_BATCH_SIZE',
    ]);
    expect((error as ConfigError).message).toMatch(/AUTH_JWKS_URL: required in production/);
    expect((error as ConfigError).message).toMatch(/AUTH_JWT_ISSUER: required in production/);
  });

  it('requires issuer, audience and an https JWKS URL for tokens in production', () => {
    expect(() =>
      loadOrdersConfig({
        ...PRODUCTION_AUTH,
        AUTH_JWKS_URL: 'http://issuer.example/jwks',
        CONTACT_POINTS_SOURCE: 'local',
      }),
    ).toThrow(/AUTH_JWKS_URL: must be an https URL in production/);
    expect(() =>
      loadOrdersConfig({ ...PRODUCTION_AUTH, AUTH_JWT_AUDIENCE: '', CONTACT_POINTS_SOURCE: 'local' }),
    ).toThrow(/AUTH_JWT_AUDIENCE: required in production/);
    // The operator credential (management listener) follows the same rules: one parser for both.
    expect(() =>
      loadOrdersConfig({
        ...PRODUCTION_AUTH,
        OPERATOR_AUTH_JWKS_URL: 'http://operators.example/jwks',
        CONTACT_POINTS_SOURCE: 'local',
      }),
    ).toThrow(/OPERATOR_AUTH_JWKS_URL: must be an https URL in production/);
    const config = loadOrdersConfig({ ...PRODUCTION_AUTH, CONTACT_POINTS_SOURCE: 'local' });
    expect(config.auth).toMatchObject({ issuer: 'https://issuer.example', audience: 'notifications' });
    expect(config.management.operatorAuth).toMatchObject({
      issuer: 'https://operators.example',
      audience: 'notifications-operators',
    });
    // Development keeps working without them (local dev key, plain-http JWKS of a local identity provider).
    expect(loadOrdersConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:5000/jwks' }).auth.key.kind).toBe('jwks');
  });

  it('allows loopback for outbound requests in development and test only; production allows what is listed', () => {
    const loopback = [
      { kind: 'host', host: 'localhost' },
      { kind: 'cidr', network: '127.0.0.0', prefix: 8, family: 'ipv4' },
      { kind: 'cidr', network: '::1', prefix: 128, family: 'ipv6' },
    ];
    expect(loadOrdersConfig({}).outbound).toEqual({
      allowList: loopback,
      maxRedirects: 3,
      conditionTimeoutMs: 5_000,
      conditionMaxResponseBytes: 4096,
    });
    expect(loadOrdersConfig({ APP_ENV: 'test' }).outbound.allowList).toEqual(loopback);
    const production = { ...PRODUCTION_AUTH, CONTACT_POINTS_SOURCE: 'local' };
    expect(loadOrdersConfig(production).outbound.allowList).toEqual([]);
    expect(
      loadOrdersConfig({ ...production, OUTBOUND_ALLOW_LIST: 'profile.internal, 10.20.0.0/16' }).outbound
        .allowList,
    ).toEqual([
      { kind: 'host', host: 'profile.internal' },
      { kind: 'cidr', network: '10.20.0.0', prefix: 16, family: 'ipv4' },
    ]);
    expect(loadOrdersConfig({ OUTBOUND_ALLOW_LIST: 'none' }).outbound.allowList).toEqual([]);
    expect(() => loadOrdersConfig({ OUTBOUND_ALLOW_LIST: '10.0.0.0/40' })).toThrow(
      /OUTBOUND_ALLOW_LIST: expected host names/,
    );
    expect(
      loadOrdersConfig({ CONTACT_POINTS_MAX_RESPONSE_BYTES: '65536' }).contactPoints.maxResponseBytes,
    ).toBe(65536);
  });

  it('refuses at start-up a contact-point register the outbound guard would refuse', () => {
    const internalRegister = {
      ...PRODUCTION_AUTH,
      CONTACT_POINTS_SOURCE: 'http',
      CONTACT_POINTS_BASE_URL: 'http://10.0.3.4/profile/',
    };
    expect(() => loadOrdersConfig(internalRegister)).toThrow(
      /CONTACT_POINTS_BASE_URL: points to a private address, .*; name its host or address in OUTBOUND_ALLOW_LIST/,
    );
    const allowed = loadOrdersConfig({ ...internalRegister, OUTBOUND_ALLOW_LIST: '10.0.3.0/24' });
    expect(allowed.contactPoints.baseUrl).toBe('http://10.0.3.4/profile/');
  });

  it('takes a PEM key (with escaped newlines) or a JWKS URL in production', () => {
    // Production also refuses plaintext Kafka and replication factor 1 (libs/config kafkaSettings).
    const safeKafka = { KAFKA_SSL: 'true', KAFKA_TOPIC_REPLICATION_FACTOR: '3' };
    const withPem = loadOrdersConfig({
      ...safeKafka,
      APP_ENV: 'production',
      AUTH_JWT_ISSUER: 'https://issuer.example',
      AUTH_JWT_AUDIENCE: 'notifications',
      AUTH_JWT_PUBLIC_KEY: PEM.replace(/\n/g, '\\n'),
      OPERATOR_AUTH_JWT_PUBLIC_KEY: PEM,
      OPERATOR_AUTH_JWT_ISSUER: 'https://operators.example',
      OPERATOR_AUTH_JWT_AUDIENCE: 'notifications-operators',
      CONTACT_POINTS_BASE_URL: 'https://platform.example/profile/api/v1/',
    });
    // In production the API docs are off unless enabled.
    expect(withPem.api.docsEnabled).toBe(false);
    expect(withPem.auth.key).toEqual({ kind: 'pem', publicKeyPem: PEM });
    expect(withPem.contactPoints).toMatchObject({
      source: 'http',
      baseUrl: 'https://platform.example/profile/api/v1/',
    });
    const withJwks = loadOrdersConfig({
      ...PRODUCTION_AUTH,
      CONTACT_POINTS_SOURCE: 'local',
      ORDERS_API_DOCS_ENABLED: 'true',
    });
    expect(withJwks.api.docsEnabled).toBe(true);
    expect(withJwks.management.operatorAuth.key).toEqual({
      kind: 'jwks',
      jwksUrl: 'https://operators.example/jwks',
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

  it('delivers to at most half the database pool at once: 4 by default, fewer for a small pool, more refused', () => {
    expect(loadOrdersConfig({}).subscriptions.deliveryConcurrency).toBe(4);
    expect(loadOrdersConfig({ DATABASE_POOL_SIZE: '4' }).subscriptions.deliveryConcurrency).toBe(2);
    expect(loadOrdersConfig({ DATABASE_POOL_SIZE: '1' }).subscriptions.deliveryConcurrency).toBe(1);
    expect(
      loadOrdersConfig({ DATABASE_POOL_SIZE: '20', SUBSCRIPTIONS_DELIVERY_CONCURRENCY: '10' }).subscriptions
        .deliveryConcurrency,
    ).toBe(10);
    expect(() =>
      loadOrdersConfig({ DATABASE_POOL_SIZE: '10', SUBSCRIPTIONS_DELIVERY_CONCURRENCY: '6' }),
    ).toThrow(/SUBSCRIPTIONS_DELIVERY_CONCURRENCY: must be at most half of DATABASE_POOL_SIZE/);
  });

  it('puts the management listener apart from the public one', () => {
    expect(loadOrdersConfig({ PORT: '8080' }).management.listener).toEqual({ port: 8180, host: '127.0.0.1' });
    // A free port for each when PORT=0 (tests).
    expect(loadOrdersConfig({ PORT: '0' }).management.listener.port).toBe(0);
    expect(
      loadOrdersConfig({ MANAGEMENT_PORT: '9000', MANAGEMENT_HOST: '0.0.0.0' }).management.listener,
    ).toEqual({ port: 9000, host: '0.0.0.0' });
    expect(() => loadOrdersConfig({ PORT: '8080', MANAGEMENT_PORT: '8080' })).toThrow(
      /MANAGEMENT_PORT: must differ from PORT/,
    );
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

describe('orders log settings', () => {
  it('accepts LOG_LEVEL=info and LOG_FORMAT=pretty (the documented values)', () => {
    const config = loadOrdersConfig({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    expect(config.observability.logging).toMatchObject({ level: 'info', format: 'pretty' });
  });

  it("accepts every pino level and Nest's names for them", () => {
    expect(loadOrdersConfig({ LOG_LEVEL: 'log' }).observability.logging.level).toBe('info');
    expect(loadOrdersConfig({ LOG_LEVEL: 'verbose' }).observability.logging.level).toBe('trace');
    expect(loadOrdersConfig({ LOG_LEVEL: 'fatal' }).observability.logging.level).toBe('fatal');
  });

  it('defaults to JSON lines at info', () => {
    expect(loadOrdersConfig({}).observability.logging).toMatchObject({ level: 'info', format: 'json' });
  });

  it('refuses an unknown level or format, naming the variable', () => {
    expect(() => loadOrdersConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadOrdersConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadOrdersConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });

  it('bounds large order bodies in flight and recipients being expanded, and names a bad bound', () => {
    const defaults = loadOrdersConfig({});
    expect(defaults.api).toMatchObject({ intakeBytesInFlight: 6 * 1024 * 1024, intakeMaxWaitMs: 60_000 });
    expect(defaults.consumer.expansionRecipientsInFlight).toBe(100_000);
    const set = loadOrdersConfig({
      ORDERS_INTAKE_BYTES_IN_FLIGHT: '1048576',
      ORDERS_INTAKE_MAX_WAIT: '5s',
      ORDERS_EXPANSION_RECIPIENTS_IN_FLIGHT: '250000',
    });
    expect(set.api).toMatchObject({ intakeBytesInFlight: 1_048_576, intakeMaxWaitMs: 5_000 });
    expect(set.consumer.expansionRecipientsInFlight).toBe(250_000);
    expect(() => loadOrdersConfig({ ORDERS_INTAKE_BYTES_IN_FLIGHT: '1000' })).toThrow(
      /ORDERS_INTAKE_BYTES_IN_FLIGHT: .*65536/,
    );
    expect(() => loadOrdersConfig({ ORDERS_INTAKE_MAX_WAIT: '30' })).toThrow(
      /ORDERS_INTAKE_MAX_WAIT: .*without a unit is ambiguous/,
    );
    expect(() => loadOrdersConfig({ ORDERS_INTAKE_MAX_WAIT: '1h' })).toThrow(/ORDERS_INTAKE_MAX_WAIT/);
    expect(() => loadOrdersConfig({ ORDERS_EXPANSION_RECIPIENTS_IN_FLIGHT: '0' })).toThrow(
      /ORDERS_EXPANSION_RECIPIENTS_IN_FLIGHT: /,
    );
  });
});
