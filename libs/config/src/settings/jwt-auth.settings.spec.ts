import { ConfigError } from '../config.error';
import { DEFAULT_DEV_KEY_FILE } from '../dev-key/dev-key';
import { loadConfig } from '../load-config';
import { jwtAuthSettings } from './jwt-auth.settings';

const PEM =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';

describe(jwtAuthSettings.name, () => {
  const settings = jwtAuthSettings({
    prefix: 'OPERATOR_AUTH_',
    defaultScope: 'altinn:notifications.operator',
  });
  const load = (env: Record<string, string> = {}) => loadConfig(settings, env);
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      load(env);
    } catch (error) {
      if (error instanceof ConfigError)
        return error.problems.map((p) => `${p.variable}: ${p.message}`).sort();
      throw error;
    }
    return [];
  };
  const production = {
    APP_ENV: 'production',
    OPERATOR_AUTH_JWKS_URL: 'https://login.example/jwks',
    OPERATOR_AUTH_JWT_ISSUER: 'https://login.example',
    OPERATOR_AUTH_JWT_AUDIENCE: 'notifications-operators',
  };

  it('falls back to the development key outside production, any JWKS URL allowed', () => {
    expect(load()).toEqual({
      key: { kind: 'dev', devKeyFile: DEFAULT_DEV_KEY_FILE },
      requiredScope: 'altinn:notifications.operator',
      clockToleranceSeconds: 30,
    });
    expect(load({ OPERATOR_AUTH_JWKS_URL: 'http://127.0.0.1:5000/jwks' }).key).toEqual({
      kind: 'jwks',
      jwksUrl: 'http://127.0.0.1:5000/jwks',
    });
  });

  it('in production requires a key, an issuer and an audience, naming every missing one under its prefix', () => {
    expect(problemsOf({ APP_ENV: 'production' })).toEqual([
      'OPERATOR_AUTH_JWKS_URL: required in production (an https URL, or OPERATOR_AUTH_JWT_PUBLIC_KEY): there is no default signing key',
      'OPERATOR_AUTH_JWT_AUDIENCE: required in production: tokens must be checked for their issuer and audience',
      'OPERATOR_AUTH_JWT_ISSUER: required in production: tokens must be checked for their issuer and audience',
    ]);
  });

  it('in production refuses a JWKS URL that is not https, and accepts a pinned PEM key instead', () => {
    expect(problemsOf({ ...production, OPERATOR_AUTH_JWKS_URL: 'http://login.example/jwks' })).toEqual([
      'OPERATOR_AUTH_JWKS_URL: must be an https URL in production, got "http://login.example/jwks"',
    ]);
    expect(load(production)).toEqual({
      key: { kind: 'jwks', jwksUrl: 'https://login.example/jwks' },
      issuer: 'https://login.example',
      audience: 'notifications-operators',
      requiredScope: 'altinn:notifications.operator',
      clockToleranceSeconds: 30,
    });
    const { OPERATOR_AUTH_JWKS_URL: _jwks, ...withoutJwks } = production;
    expect(load({ ...withoutJwks, OPERATOR_AUTH_JWT_PUBLIC_KEY: PEM }).key).toEqual({
      kind: 'pem',
      // Surrounding whitespace is trimmed like any other setting.
      publicKeyPem: PEM.trim(),
    });
  });

  it('refuses both key sources at once, and a key that is not PEM', () => {
    expect(
      problemsOf({ OPERATOR_AUTH_JWT_PUBLIC_KEY: PEM, OPERATOR_AUTH_JWKS_URL: 'https://a.example/jwks' }),
    ).toEqual([
      'OPERATOR_AUTH_JWKS_URL: set either OPERATOR_AUTH_JWT_PUBLIC_KEY or OPERATOR_AUTH_JWKS_URL, not both, got "https://a.example/jwks"',
    ]);
    expect(problemsOf({ OPERATOR_AUTH_JWT_PUBLIC_KEY: 'secret' })).toEqual([
      'OPERATOR_AUTH_JWT_PUBLIC_KEY: expected a PEM public key (-----BEGIN PUBLIC KEY-----)',
    ]);
  });
});
