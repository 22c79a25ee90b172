import { ConfigError, redactConfig } from '@notifications/config';
import {
  DEFAULT_DELIVERY_REPORT_ACCESS_KEY,
  loadStatusPollerConfig,
  statusPollerConfigSchema,
} from './status-poller.config';

describe('status-poller config', () => {
  it('has working development defaults (the emulator, 2 s first check, ×2 up to 60 s, 48 h deadline)', () => {
    const config = loadStatusPollerConfig({});
    expect(config.http.port).toBe(5092);
    expect(config.acs).toMatchObject({ endpoint: 'http://127.0.0.1:5099/', apiVersion: '2025-09-01' });
    expect(config.polling).toMatchObject({
      firstCheckDelayMs: 2_000,
      backoffMultiplier: 2,
      maxIntervalMs: 60_000,
      deadlineMs: 48 * 3_600_000,
      maxHoldMs: 250,
    });
    expect(config.deliveryReports.accessKey).toBe(DEFAULT_DELIVERY_REPORT_ACCESS_KEY);
    expect(config.topics).toEqual({ groupId: undefined });
  });

  it('keeps secrets out of logs', () => {
    const config = loadStatusPollerConfig({
      ACS_CONNECTION_STRING: 'endpoint=https://x.communication.azure.com/;accesskey=c2VjcmV0',
      DELIVERY_REPORT_ACCESS_KEY: 'hush',
    });
    const logged = JSON.stringify(redactConfig(config));
    expect(logged).not.toContain('c2VjcmV0');
    expect(logged).not.toContain('hush');
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadStatusPollerConfig({
        ACS_CONNECTION_STRING: 'nope',
        STATUS_CHECK_FIRST_DELAY_MS: 'soon',
        STATUS_CHECK_BACKOFF_MULTIPLIER: '0.5',
        KAFKA_TOPIC_SUFFIX: 'has space',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((problem) => problem.variable).sort();
    expect(variables).toEqual([
      'ACS_CONNECTION_STRING',
      'KAFKA_TOPIC_SUFFIX',
      'STATUS_CHECK_BACKOFF_MULTIPLIER',
      'STATUS_CHECK_FIRST_DELAY_MS',
    ]);
    expect((error as ConfigError).message).not.toContain('nope');
  });

  it('refuses to start in production on development defaults, naming every problem in one error', () => {
    let error: unknown;
    try {
      loadStatusPollerConfig({ APP_ENV: 'production' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.variable).sort()).toEqual([
      'ACS_CONNECTION_STRING',
      'ACS_RESOURCE_ID',
      'DELIVERY_REPORT_ACCESS_KEY',
      'KAFKA_SSL',
      'KAFKA_TOPIC_REPLICATION_FACTOR',
      'OPERATOR_AUTH_JWKS_URL',
      'OPERATOR_AUTH_JWT_AUDIENCE',
      'OPERATOR_AUTH_JWT_ISSUER',
    ]);
    expect((error as ConfigError).message).toMatch(
      /DELIVERY_REPORT_ACCESS_KEY: required in production: there is no default webhook key/,
    );
  });

  it('starts in production with a real resource, its own key and a safe Kafka', () => {
    const resourceId =
      '/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/contoso';
    const config = loadStatusPollerConfig({
      APP_ENV: 'production',
      ACS_CONNECTION_STRING: 'endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0',
      ACS_RESOURCE_ID: resourceId,
      DELIVERY_REPORT_ACCESS_KEY: 'hush',
      KAFKA_SSL: 'true',
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      OPERATOR_AUTH_JWKS_URL: 'https://operators.example/jwks',
      OPERATOR_AUTH_JWT_ISSUER: 'https://operators.example',
      OPERATOR_AUTH_JWT_AUDIENCE: 'notifications-operators',
    });
    expect(config.deliveryReports).toMatchObject({
      accessKey: 'hush',
      acsResourceId: resourceId,
      allowQueryKey: false,
      maxEventsPerRequest: 5000,
    });
    expect(() => loadStatusPollerConfig({ ACS_RESOURCE_ID: '/subscriptions/1' })).toThrow(
      /ACS_RESOURCE_ID: expected an ACS resource id/,
    );
    expect(() => loadStatusPollerConfig({ DELIVERY_REPORT_MAX_EVENTS: '5001' })).toThrow(
      /DELIVERY_REPORT_MAX_EVENTS/,
    );
  });

  it('refuses a schedule that would need too many delay topics', () => {
    expect(() => statusPollerConfigSchema.parse({})).toThrow();
    expect(() =>
      loadStatusPollerConfig({
        STATUS_CHECK_BACKOFF_MULTIPLIER: '1.05',
        STATUS_CHECK_MAX_INTERVAL_MS: '10m',
      }),
    ).toThrow(/STATUS_CHECK_BACKOFF_MULTIPLIER/);
  });
});

describe('status-poller log settings', () => {
  it('accepts LOG_LEVEL=info and LOG_FORMAT=pretty (the documented values)', () => {
    const config = loadStatusPollerConfig({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    expect(config.observability.logging).toMatchObject({ level: 'info', format: 'pretty' });
  });

  it("accepts every pino level and Nest's names for them", () => {
    expect(loadStatusPollerConfig({ LOG_LEVEL: 'log' }).observability.logging.level).toBe('info');
    expect(loadStatusPollerConfig({ LOG_LEVEL: 'verbose' }).observability.logging.level).toBe('trace');
    expect(loadStatusPollerConfig({ LOG_LEVEL: 'fatal' }).observability.logging.level).toBe('fatal');
  });

  it('defaults to JSON lines at info', () => {
    expect(loadStatusPollerConfig({}).observability.logging).toMatchObject({ level: 'info', format: 'json' });
  });

  it('refuses an unknown level or format, naming the variable', () => {
    expect(() => loadStatusPollerConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadStatusPollerConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadStatusPollerConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});
