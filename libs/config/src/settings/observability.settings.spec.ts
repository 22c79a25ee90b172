import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.error';
import { loadConfig } from '../load-config';
import { observabilitySettings, PINO_LEVELS } from './observability.settings';

const REPO_ROOT = join(__dirname, '../../../..');

describe('observabilitySettings', () => {
  const load = (env: Record<string, string> = {}) => loadConfig(observabilitySettings, env);

  it('defaults to JSON logs at info, request lines on, tracing off', () => {
    expect(load()).toEqual({
      logging: { level: 'info', format: 'json', httpRequests: true },
      tracing: { enabled: false },
    });
  });

  it.each([
    ['log', 'info'],
    ['verbose', 'trace'],
    ['debug', 'debug'],
    ['warn', 'warn'],
    ['silent', 'silent'],
  ])('maps LOG_LEVEL=%s to pino level %s', (given, level) => {
    expect(load({ LOG_LEVEL: given }).logging.level).toBe(level);
  });

  it('treats LOG_FORMAT=text like pretty', () => {
    expect(load({ LOG_FORMAT: 'text' }).logging.format).toBe('pretty');
    expect(load({ LOG_FORMAT: 'pretty' }).logging.format).toBe('pretty');
  });

  it('turns tracing on with an endpoint (trailing slash dropped) unless TRACING_ENABLED=false', () => {
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }).tracing).toEqual({
      enabled: true,
      endpoint: 'http://127.0.0.1:4318',
    });
    expect(
      load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', TRACING_ENABLED: 'false' }).tracing
        .enabled,
    ).toBe(false);
    expect(load({ OTEL_SERVICE_NAME: 'orders-eu' }).tracing.serviceName).toBe('orders-eu');
  });

  it('rejects TRACING_ENABLED=true without an endpoint, and bad values', () => {
    expect(() => load({ TRACING_ENABLED: 'true' })).toThrow(ConfigError);
    expect(() => load({ TRACING_ENABLED: 'true' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => load({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });
});

describe('log settings in the READMEs', () => {
  // Each README documents LOG_LEVEL and LOG_FORMAT for its app; they are parsed by this one group everywhere.
  const readmes = [
    'README.md',
    'apps/orders/README.md',
    'apps/email-sender/README.md',
    'apps/status-poller/README.md',
  ];
  const row = (readme: string, variable: string): string[] => {
    const text = readFileSync(join(REPO_ROOT, readme), 'utf8');
    const line = text.split('\n').find((l) => l.startsWith(`| \`${variable}\``));
    if (line === undefined) throw new Error(`${readme} has no ${variable} row`);
    return line.split('|').map((cell) => cell.trim());
  };

  it.each(readmes)('%s documents the defaults and values observabilitySettings accepts', (readme) => {
    const defaults = loadConfig(observabilitySettings, {}).logging;
    const [, , levelDefault, levelValues] = row(readme, 'LOG_LEVEL');
    expect(levelDefault).toBe(`\`${defaults.level}\``);
    for (const level of PINO_LEVELS) {
      expect(levelValues).toContain(`\`${level}\``);
      expect(() => loadConfig(observabilitySettings, { LOG_LEVEL: level })).not.toThrow();
    }
    const [, , formatDefault, formatValues] = row(readme, 'LOG_FORMAT');
    expect(formatDefault).toBe(`\`${defaults.format}\``);
    for (const format of ['json', 'pretty'] as const) {
      expect(formatValues).toContain(`\`${format}\``);
      expect(loadConfig(observabilitySettings, { LOG_FORMAT: format }).logging.format).toBe(format);
    }
  });
});
