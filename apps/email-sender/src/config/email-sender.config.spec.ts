import { ACS_EMULATOR_ACCESS_KEY, ConfigError, redactConfig } from '@notifications/config';
import { DEFAULT_ACS_CONNECTION_STRING, loadEmailSenderConfig } from './email-sender.config';

describe(loadEmailSenderConfig.name, () => {
  it('runs against the local emulator and broker with no settings at all', () => {
    const config = loadEmailSenderConfig({});
    expect(config.http.port).toBe(5091);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.fetchMaxBytesPerPartition).toBe(512 * 1024);
    expect(config.acs.connection).toEqual({
      connectionString: DEFAULT_ACS_CONNECTION_STRING,
      endpoint: 'http://127.0.0.1:5099/',
      accessKey: ACS_EMULATOR_ACCESS_KEY,
      insecure: true,
    });
    expect(config.acs).toMatchObject({
      requestTimeoutMs: 10_000,
      maxRetries: 2,
      defaultRetryAfterMs: 60_000,
      maxRetryAfterMs: 3_600_000,
    });
    expect(config.sending).toEqual({
      concurrency: 64,
      ratePerMinute: 0,
      maxHoldMs: 10_000,
      maxMessageAgeMs: 48 * 3_600_000,
      maxAcsOutagePausesPerEmail: 10,
      retryPolicy: { maxAttempts: 5, initialDelayMs: 5_000, multiplier: 4, maxDelayMs: 300_000 },
    });
  });

  it('reads every setting', () => {
    const config = loadEmailSenderConfig({
      ACS_CONNECTION_STRING: 'endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0',
      ACS_REQUEST_TIMEOUT_MS: '5s',
      ACS_MAX_RETRIES: '0',
      ACS_RETRY_DELAY_MS: '200ms',
      ACS_MAX_RETRY_DELAY_MS: '2s',
      ACS_DEFAULT_RETRY_AFTER_MS: '30s',
      EMAIL_SEND_CONCURRENCY: '4',
      EMAIL_RATE_LIMIT_PER_MINUTE: '600',
      EMAIL_MAX_HOLD_MS: '2s',
      EMAIL_MAX_MESSAGE_AGE_MS: '24h',
      EMAIL_MAX_ACS_OUTAGE_PAUSES: '4',
      EMAIL_RETRY_MAX_ATTEMPTS: '3',
      EMAIL_RETRY_INITIAL_DELAY_MS: '1s',
      EMAIL_RETRY_MULTIPLIER: '2',
      EMAIL_RETRY_MAX_DELAY_MS: '1m',
      LOG_FORMAT: 'JSON',
      LOG_LEVEL: 'debug',
      PORT: '0',
    });
    expect(config.acs).toEqual({
      connection: {
        connectionString: 'endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0',
        endpoint: 'https://contoso.communication.azure.com/',
        accessKey: 'c2VjcmV0',
        insecure: false,
      },
      requestTimeoutMs: 5_000,
      maxRetries: 0,
      retryDelayMs: 200,
      maxRetryDelayMs: 2_000,
      defaultRetryAfterMs: 30_000,
      maxRetryAfterMs: 3_600_000,
    });
    expect(config.sending).toEqual({
      concurrency: 4,
      ratePerMinute: 600,
      maxHoldMs: 2_000,
      maxMessageAgeMs: 24 * 3_600_000,
      maxAcsOutagePausesPerEmail: 4,
      retryPolicy: { maxAttempts: 3, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000 },
    });
    expect(config.observability.logging).toEqual({ level: 'debug', format: 'json', httpRequests: true });
    expect(config.http.port).toBe(0);
  });

  it('lists every bad variable at once and never prints the access key', () => {
    const badConnection = 'endpoint=not-a-url;accesskey=c3VwZXJzZWNyZXQ=';
    let error: unknown;
    try {
      loadEmailSenderConfig({
        ACS_CONNECTION_STRING: badConnection,
        EMAIL_SEND_CONCURRENCY: '0',
        EMAIL_RATE_LIMIT_PER_MINUTE: '-1',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'ACS_CONNECTION_STRING',
      'EMAIL_RATE_LIMIT_PER_MINUTE',
      'EMAIL_SEND_CONCURRENCY',
    ]);
    expect(message).not.toContain('c3VwZXJzZWNyZXQ=');
  });

  it('refuses a hold longer than the Kafka session, and a max retry delay below the first one', () => {
    expect(() =>
      loadEmailSenderConfig({
        EMAIL_MAX_HOLD_MS: '30s',
        KAFKA_SESSION_TIMEOUT_MS: '30s',
        ACS_RETRY_DELAY_MS: '5s',
        ACS_MAX_RETRY_DELAY_MS: '1s',
      }),
    ).toThrow(
      /EMAIL_MAX_HOLD_MS: must be shorter than KAFKA_SESSION_TIMEOUT_MS[\s\S]*ACS_MAX_RETRY_DELAY_MS/,
    );
  });

  it("refuses the emulator's default connection string and plaintext Kafka in production, in one error", () => {
    let error: unknown;
    try {
      loadEmailSenderConfig({ APP_ENV: 'production' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'ACS_CONNECTION_STRING',
      'KAFKA_SSL',
      'KAFKA_TOPIC_REPLICATION_FACTOR',
      'OPERATOR_AUTH_JWKS_URL',
      'OPERATOR_AUTH_JWT_AUDIENCE',
      'OPERATOR_AUTH_JWT_ISSUER',
    ]);
    const allowed = loadEmailSenderConfig({
      APP_ENV: 'production',
      ACS_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
      KAFKA_ALLOW_PLAINTEXT_IN_PRODUCTION: 'true',
      KAFKA_ALLOW_REPLICATION_FACTOR_1_IN_PRODUCTION: 'true',
      OPERATOR_AUTH_JWKS_URL: 'https://operators.example/jwks',
      OPERATOR_AUTH_JWT_ISSUER: 'https://operators.example',
      OPERATOR_AUTH_JWT_AUDIENCE: 'notifications-operators',
    });
    expect(allowed.acsProduction.allowEmulatorInProduction).toBe(true);
  });

  it('redacts the connection string for logging but keeps the endpoint', () => {
    const text = JSON.stringify(redactConfig(loadEmailSenderConfig({})));
    expect(text).not.toContain('YWNzLWVtdWxhdG9y');
    expect(text).toContain('http://127.0.0.1:5099/');
  });
});

describe('email-sender log settings', () => {
  it('accepts LOG_LEVEL=info and LOG_FORMAT=pretty (the documented values)', () => {
    const config = loadEmailSenderConfig({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    expect(config.observability.logging).toMatchObject({ level: 'info', format: 'pretty' });
  });

  it("accepts every pino level and Nest's names for them", () => {
    expect(loadEmailSenderConfig({ LOG_LEVEL: 'log' }).observability.logging.level).toBe('info');
    expect(loadEmailSenderConfig({ LOG_LEVEL: 'verbose' }).observability.logging.level).toBe('trace');
    expect(loadEmailSenderConfig({ LOG_LEVEL: 'fatal' }).observability.logging.level).toBe('fatal');
  });

  it('defaults to JSON lines at info', () => {
    expect(loadEmailSenderConfig({}).observability.logging).toMatchObject({ level: 'info', format: 'json' });
  });

  it('refuses an unknown level or format, naming the variable', () => {
    expect(() => loadEmailSenderConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadEmailSenderConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadEmailSenderConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});
