import { ConfigError } from '@notifications/config';
import { DEFAULT_ACCESS_KEY, DEFAULT_CONNECTION_STRING, loadEmulatorConfig } from './emulator.config';

describe(loadEmulatorConfig.name, () => {
  it('defaults to port 5099, the documented development key and no rate limit', () => {
    const config = loadEmulatorConfig({});

    expect(DEFAULT_CONNECTION_STRING).toBe(`endpoint=http://127.0.0.1:5099/;accesskey=${DEFAULT_ACCESS_KEY}`);
    expect(Buffer.from(DEFAULT_ACCESS_KEY, 'base64').toString()).toBe(
      'acs-emulator-development-access-key-not-a-secret',
    );
    expect(config).toMatchObject({
      http: { port: 5099 },
      acs: {
        accessKey: DEFAULT_ACCESS_KEY,
        operationDelayMs: 500,
        pollRetryAfterSeconds: 1,
        maxDateSkewMs: 900_000,
      },
      scripting: { rules: [], builtInRules: true, rateLimitPerMinute: undefined },
      store: { maxMessages: 20_000, maxMessageChars: 32 * 1024 * 1024, storedBodyChars: 1024 },
      deliveryReports: {
        webhookUrl: undefined,
        statusMix: 'Delivered',
        batchSize: 500,
        batchKb: 1024,
        tickMs: 250,
      },
    });
  });

  it('reads rules, status mix and connection string from JSON and text', () => {
    const config = loadEmulatorConfig({
      ACS_CONNECTION_STRING: 'endpoint=https://x.communication.azure.com/;accesskey=c2VjcmV0',
      ACS_RULES: '[{"match":"*@x.org","behaviour":"fail"}]',
      ACS_DELIVERY_REPORT_STATUS_MIX: '{"Delivered":0.9,"Bounced":0.1}',
      ACS_RATE_LIMIT_PER_MINUTE: '100',
    });

    expect(config.acs.accessKey).toBe('c2VjcmV0');
    expect(config.scripting.rules).toEqual([{ match: '*@x.org', behaviour: { type: 'fail' } }]);
    expect(config.scripting.rateLimitPerMinute).toBe(100);
    expect(config.deliveryReports.statusMix).toEqual({ Delivered: 0.9, Bounced: 0.1 });
  });

  it('lists every bad variable at once without printing the connection string', () => {
    let error: unknown;
    try {
      loadEmulatorConfig({
        ACS_CONNECTION_STRING: 'endpoint=http://x/;accesskey=not base64!',
        ACS_RULES: '{"match":"*","behaviour":"explode"}',
        ACS_DELIVERY_REPORT_WEBHOOK: 'ftp://x',
      });
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).message;
    expect(text).toMatch(/ACS_CONNECTION_STRING/);
    expect(text).not.toMatch(/not base64/);
    expect(text).toMatch(/ACS_RULES: expected a rule or an array of rules/);
    expect(text).toMatch(/ACS_DELIVERY_REPORT_WEBHOOK/);
  });
});

describe('acs-emulator log settings', () => {
  it('accepts LOG_LEVEL=info and LOG_FORMAT=pretty like the apps', () => {
    const config = loadEmulatorConfig({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    expect(config.observability.logging).toMatchObject({ level: 'info', format: 'pretty' });
    expect(() => loadEmulatorConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});
