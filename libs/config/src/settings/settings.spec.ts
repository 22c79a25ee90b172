import { z } from 'zod';
import { ConfigError } from '../config.error';
import { loadConfig } from '../load-config';
import { appEnvSettings } from './app-env.settings';
import { databaseSettings } from './database.settings';
import { httpSettings } from './http.settings';

describe('databaseSettings', () => {
  it('defaults to the local server', () => {
    expect(loadConfig(databaseSettings, {})).toEqual({
      url: 'postgres://postgres@127.0.0.1:5432/notifications',
      poolSize: 10,
      statementTimeoutMs: 30_000,
    });
  });

  it('reads every setting', () => {
    expect(
      loadConfig(databaseSettings, {
        DATABASE_URL: 'postgresql://app@db:5433/orders',
        DATABASE_POOL_SIZE: '4',
        DATABASE_STATEMENT_TIMEOUT_MS: '2m',
      }),
    ).toEqual({ url: 'postgresql://app@db:5433/orders', poolSize: 4, statementTimeoutMs: 120_000 });
  });

  it('rejects a pool size of 0', () => {
    expect(() => loadConfig(databaseSettings, { DATABASE_POOL_SIZE: '0' })).toThrow(ConfigError);
  });
});

describe(httpSettings.name, () => {
  it('takes the app default port, overridable by PORT and HOST', () => {
    expect(loadConfig(httpSettings(5090), {})).toEqual({ port: 5090, host: '0.0.0.0' });
    expect(loadConfig(httpSettings(5090), { PORT: '0', HOST: '127.0.0.1' })).toEqual({
      port: 0,
      host: '127.0.0.1',
    });
  });
});

describe('appEnvSettings', () => {
  const load = (env: Record<string, string>) => loadConfig(z.object({ env: appEnvSettings }), env).env;

  it('prefers APP_ENV over NODE_ENV and defaults to development', () => {
    expect(load({})).toBe('development');
    expect(load({ NODE_ENV: 'test' })).toBe('test');
    expect(load({ NODE_ENV: 'production', APP_ENV: 'test' })).toBe('test');
  });

  it('rejects unknown environments', () => {
    expect(() => load({ NODE_ENV: 'staging' })).toThrow(
      'NODE_ENV: expected one of development, test, production, got "staging"',
    );
  });
});
