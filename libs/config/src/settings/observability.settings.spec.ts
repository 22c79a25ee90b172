import { ConfigError } from '../config.error';
import { loadConfig } from '../load-config';
import { observabilitySettings } from './observability.settings';

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
