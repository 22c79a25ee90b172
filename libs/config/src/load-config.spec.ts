import { z } from 'zod';
import { ConfigError } from './config.error';
import { envInt, envString } from './env-schemas';
import { envGroup, loadConfig } from './load-config';
import { redactConfig } from './redact';
import { appEnvSettings } from './settings/app-env.settings';
import { databaseSettings } from './settings/database.settings';
import { httpSettings } from './settings/http.settings';
import { kafkaSettings } from './settings/kafka.settings';

const appSchema = z.object({
  env: appEnvSettings,
  kafka: kafkaSettings('orders'),
  db: databaseSettings,
  http: httpSettings(5090),
  LOG_LEVEL: z.enum(['debug', 'info']).default('info'),
});

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe(loadConfig.name, () => {
  it('composes setting groups and single variables into one nested, typed config with defaults', () => {
    const config = loadConfig(appSchema, {});

    expect(config).toEqual({
      env: 'development',
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'notifications-orders',
        ssl: false,
        topics: { partitions: 6, replicationFactor: 1, retentionMs: 7 * 24 * 3_600_000 },
        compression: 'none',
        maxRequestBytes: 1_000_000,
        consumerConcurrency: 3,
        fetchMaxBytesPerPartition: 1_048_576,
        sessionTimeoutMs: 30_000,
        shutdownTimeoutMs: 20_000,
      },
      db: {
        url: 'postgres://postgres@127.0.0.1:5432/notifications',
        poolSize: 10,
        statementTimeoutMs: 30_000,
      },
      http: { port: 5090, host: '0.0.0.0' },
      LOG_LEVEL: 'info',
    });
  });

  it('reads only the environment it is given', () => {
    const config = loadConfig(appSchema, { PORT: '8080', LOG_LEVEL: 'debug', KAFKA_BROKERS: 'a:1,b:2' });

    expect(config.http.port).toBe(8080);
    expect(config.LOG_LEVEL).toBe('debug');
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
  });

  it('lists every bad variable at once, by env name, with the bad value', () => {
    const error = configError(() =>
      loadConfig(appSchema, {
        KAFKA_BROKERS: 'foo',
        KAFKA_TOPIC_PARTITIONS: 'many',
        DATABASE_URL: 'not a url',
        PORT: '99999',
        APP_ENV: 'staging',
        LOG_LEVEL: 'loud',
      }),
    );

    expect(error.message).toBe(
      [
        'Invalid configuration:',
        '  - APP_ENV: expected one of development, test, production, got "staging"',
        '  - KAFKA_BROKERS: expected host:port list, got "foo"',
        '  - KAFKA_TOPIC_PARTITIONS: expected an integer >= 1, got "many"',
        '  - DATABASE_URL: expected a URL starting with postgres:// or postgresql://, got "not a url"',
        '  - PORT: expected an integer between 0 and 65535, got "99999"',
        '  - LOG_LEVEL: Invalid option: expected one of "debug"|"info", got "loud"',
      ].join('\n'),
    );
    expect(error.problems).toHaveLength(6);
  });

  it('reports missing required variables as "required", including plain zod schemas', () => {
    const error = configError(() =>
      loadConfig(z.object({ API_TOKEN_ISSUER: z.string(), REGION: envString() }), { REGION: '  ' }),
    );

    expect(error.message).toBe(
      'Invalid configuration:\n  - API_TOKEN_ISSUER: required\n  - REGION: required',
    );
  });

  it('never prints the value of a secret variable, nor a password inside a URL', () => {
    const schema = z.object({
      db: databaseSettings,
      ACS_CONNECTION_STRING: z.string().startsWith('endpoint='),
      SIGNING_KEY: z.string().min(32),
      WEBHOOK_SECRET: z.string().min(32),
      JWT_TOKEN: z.string().min(32),
      SMTP_PASSWORD: z.string().min(32),
    });
    const error = configError(() =>
      loadConfig(schema, {
        DATABASE_URL: 'mysql://app:hunter2@db:5432/x',
        ACS_CONNECTION_STRING: 'accesskey=s3cr3t-connection',
        SIGNING_KEY: 's3cr3t-key',
        WEBHOOK_SECRET: 's3cr3t-secret',
        JWT_TOKEN: 's3cr3t-token',
        SMTP_PASSWORD: 's3cr3t-password',
      }),
    );

    expect(error.problems.map((p) => p.variable)).toEqual([
      'DATABASE_URL',
      'ACS_CONNECTION_STRING',
      'SIGNING_KEY',
      'WEBHOOK_SECRET',
      'JWT_TOKEN',
      'SMTP_PASSWORD',
    ]);
    expect(error.message).not.toMatch(/hunter2|s3cr3t/);
    expect(error.message).toContain('got "mysql://app:***@db:5432/x"');
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig(appSchema, {});

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kafka)).toBe(true);
    expect(Object.isFrozen(config.kafka.topics)).toBe(true);
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true);
    expect(() => {
      (config.kafka.brokers as string[]).push('x:1');
    }).toThrow(TypeError);
  });

  it('accepts a setting group, or a plain object of env names, as the whole schema', () => {
    expect(loadConfig(httpSettings(80), { PORT: '81' })).toEqual({ port: 81, host: '0.0.0.0' });
    expect(loadConfig(z.object({ PORT: envInt(80) }), { PORT: '82', OTHER: 'x' })).toEqual({ PORT: 82 });
  });

  it('feeds nested plain objects by the same rules', () => {
    const config = loadConfig(
      z.object({ email: z.object({ http: httpSettings(1), FROM: envString('a@b.c') }) }),
      {
        FROM: 'x@y.z',
      },
    );

    expect(config).toEqual({ email: { http: { port: 1, host: '0.0.0.0' }, FROM: 'x@y.z' } });
  });

  it('supports app-defined groups', () => {
    const acs = envGroup(
      z.object({ ACS_ENDPOINT: envString() }).transform((env) => ({ endpoint: env.ACS_ENDPOINT })),
    );

    expect(loadConfig(z.object({ acs }), { ACS_ENDPOINT: 'https://acs' })).toEqual({
      acs: { endpoint: 'https://acs' },
    });
  });

  it('refuses a lower-case key that is not a group, instead of silently reading an unset variable', () => {
    const wrapped = httpSettings(1).optional();

    expect(() => loadConfig(z.object({ http: wrapped }), {})).toThrow(
      /"http" is neither an environment variable/,
    );
  });
});

describe(redactConfig.name, () => {
  it('replaces secrets with *** wherever they ended up', () => {
    const schema = z.object({
      kafka: kafkaSettings('orders'),
      db: databaseSettings,
      acs: envGroup(
        z
          .object({ ACS_CONNECTION_STRING: envString() })
          .transform((env) => ({ endpoint: env.ACS_CONNECTION_STRING })),
      ),
    });
    const config = loadConfig(schema, {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_USERNAME: 'notifications',
      KAFKA_PASSWORD: 'kafka-pw',
      DATABASE_URL: 'postgres://app:db-pw@db:5432/notifications',
      ACS_CONNECTION_STRING: 'endpoint=https://acs;accesskey=acs-key',
    });

    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);

    expect(text).not.toMatch(/kafka-pw|db-pw|acs-key/);
    expect(redacted).toMatchObject({
      kafka: { sasl: { admin: { username: 'notifications', password: '***' } } },
      db: { url: 'postgres://app:***@db:5432/notifications' },
      acs: { endpoint: '***' },
    });
    expect(config.kafka.sasl?.admin.password).toBe('kafka-pw');
  });

  it('redacts by key name and embedded credentials for objects not made by loadConfig', () => {
    expect(
      redactConfig({
        apiKey: 'k',
        nested: { clientSecret: 's', list: ['x', 'https://u:p@h/?sig=abc&x=1'] },
        n: 1,
      }),
    ).toEqual({
      apiKey: '***',
      nested: { clientSecret: '***', list: ['x', 'https://u:***@h/?sig=***&x=1'] },
      n: 1,
    });
  });
});
