import { z } from 'zod';
import { DEFAULT_DEV_KEY_FILE } from '../dev-key/dev-key';
import { envDurationMs, envEnum, envString, envUrl, type EnvSchema } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';
import { APP_ENVS, type AppEnv } from './app-env.settings';

export type JwtKeySource =
  | { readonly kind: 'pem'; readonly publicKeyPem: string }
  | { readonly kind: 'jwks'; readonly jwksUrl: string }
  | { readonly kind: 'dev'; readonly devKeyFile: string };

/** How bearer JWTs of one audience of callers (service owners, operators) are verified. */
export interface JwtAuthSettings {
  readonly key: JwtKeySource;
  readonly issuer?: string;
  readonly audience?: string;
  readonly requiredScope: string;
  /** Accepted clock difference for `exp`/`nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

export interface JwtAuthSettingsOptions {
  /** Prefix of every variable: `AUTH_` reads `AUTH_JWT_PUBLIC_KEY`, `AUTH_JWKS_URL`, … */
  readonly prefix: string;
  /** The scope a token must carry unless `<prefix>REQUIRED_SCOPE` says otherwise. */
  readonly defaultScope: string;
}

/**
 * A public key (PEM) or a JWKS URL, with issuer, audience, required scope and clock tolerance, all under one
 * prefix. Only development and test fall back to the local development key (`<prefix>DEV_KEY_FILE`, default
 * `.dev/jwt-dev-key.json`). Production has no default: it refuses to start without one of the two, with a JWKS
 * URL that is not https, or without `<prefix>JWT_ISSUER` and `<prefix>JWT_AUDIENCE`.
 */
export function jwtAuthSettings({
  prefix,
  defaultScope,
}: JwtAuthSettingsOptions): SettingGroup<JwtAuthSettings> {
  const name = {
    pem: `${prefix}JWT_PUBLIC_KEY`,
    jwks: `${prefix}JWKS_URL`,
    issuer: `${prefix}JWT_ISSUER`,
    audience: `${prefix}JWT_AUDIENCE`,
    scope: `${prefix}REQUIRED_SCOPE`,
    tolerance: `${prefix}CLOCK_TOLERANCE`,
    devKeyFile: `${prefix}DEV_KEY_FILE`,
  } as const;
  const shape: Record<string, EnvSchema<unknown>> = {
    APP_ENV: envEnum(APP_ENVS).optional(),
    NODE_ENV: envEnum(APP_ENVS).optional(),
    [name.pem]: envString().optional(),
    [name.jwks]: envUrl(undefined, { protocols: ['https', 'http'] }).optional(),
    [name.issuer]: envString().optional(),
    [name.audience]: envString().optional(),
    [name.scope]: envString(defaultScope),
    [name.tolerance]: envDurationMs('30s', { min: 0, max: 600_000 }),
    [name.devKeyFile]: envString(DEFAULT_DEV_KEY_FILE),
  };
  // The keys are computed from the prefix, so the parsed object is read back through these typed accessors.
  const read = (env: Record<string, unknown>, key: string): string | undefined => {
    const value = env[key];
    return typeof value === 'string' ? value : undefined;
  };
  return envGroup(
    z
      .object(shape)
      .superRefine((env, ctx) => {
        const pem = read(env, name.pem);
        const jwks = read(env, name.jwks);
        if (pem !== undefined && !pem.replace(/\\n/g, '\n').includes('-----BEGIN PUBLIC KEY-----')) {
          ctx.addIssue({
            code: 'custom',
            path: [name.pem],
            message: 'expected a PEM public key (-----BEGIN PUBLIC KEY-----)',
          });
        }
        if (pem !== undefined && jwks !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [name.jwks],
            message: `set either ${name.pem} or ${name.jwks}, not both`,
          });
        }
        const appEnv = (read(env, 'APP_ENV') ?? read(env, 'NODE_ENV') ?? 'development') as AppEnv;
        if (appEnv !== 'production') return;
        if (pem === undefined && jwks === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [name.jwks],
            message: `required in production (an https URL, or ${name.pem}): there is no default signing key`,
          });
        }
        // Keys fetched over plain http could be replaced on the way, and with them every caller's identity.
        if (jwks !== undefined && new URL(jwks).protocol !== 'https:') {
          ctx.addIssue({ code: 'custom', path: [name.jwks], message: 'must be an https URL in production' });
        }
        // Without them, a token the same identity provider issued for another audience would be accepted here.
        for (const variable of [name.issuer, name.audience]) {
          if (read(env, variable) === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [variable],
              message: 'required in production: tokens must be checked for their issuer and audience',
            });
          }
        }
      })
      .transform((env): JwtAuthSettings => {
        const pem = read(env, name.pem);
        const jwks = read(env, name.jwks);
        const issuer = read(env, name.issuer);
        const audience = read(env, name.audience);
        const key: JwtKeySource =
          pem !== undefined
            ? // Environment variables often carry PEM newlines as the two characters "\n".
              { kind: 'pem', publicKeyPem: pem.replace(/\\n/g, '\n') }
            : jwks !== undefined
              ? { kind: 'jwks', jwksUrl: jwks }
              : { kind: 'dev', devKeyFile: read(env, name.devKeyFile) ?? DEFAULT_DEV_KEY_FILE };
        return {
          key,
          ...(issuer === undefined ? {} : { issuer }),
          ...(audience === undefined ? {} : { audience }),
          requiredScope: read(env, name.scope) ?? defaultScope,
          clockToleranceSeconds: Math.round(Number(env[name.tolerance]) / 1000),
        };
      }),
  );
}
