import { z } from 'zod';
import { envInt, envString } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';
import { jwtAuthSettings, type JwtAuthSettings } from './jwt-auth.settings';

/** The scope an operator's token must carry on the management listener (unless OPERATOR_AUTH_REQUIRED_SCOPE). */
export const OPERATOR_SCOPE = 'altinn:notifications.operator';

/** The distance between an app's public port and its management port, unless MANAGEMENT_PORT says otherwise. */
export const MANAGEMENT_PORT_OFFSET = 100;

export interface ManagementListenerSettings {
  readonly port: number;
  readonly host: string;
}

/**
 * The management listener: operator endpoints, `/metrics` and `/status` are served only here, apart from the
 * public API. Default port: the public port + 100 (a free one when `PORT=0`); default host 127.0.0.1, so a
 * development machine never exposes it; in Kubernetes `MANAGEMENT_HOST=0.0.0.0` behind a cluster-internal Service.
 */
export const managementListenerSettings: SettingGroup<ManagementListenerSettings> = envGroup(
  z
    .object({
      PORT: envInt(undefined, { min: 0, max: 65_535 }).optional(),
      MANAGEMENT_PORT: envInt(undefined, { min: 0, max: 65_535 }).optional(),
      MANAGEMENT_HOST: envString('127.0.0.1'),
    })
    .superRefine((env, ctx) => {
      if (
        env.MANAGEMENT_PORT !== undefined &&
        env.MANAGEMENT_PORT !== 0 &&
        env.MANAGEMENT_PORT === env.PORT
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['MANAGEMENT_PORT'],
          message: 'must differ from PORT: the management listener is apart from the public one',
        });
      }
    })
    .transform((env): ManagementListenerSettings => ({
      port: env.MANAGEMENT_PORT ?? defaultManagementPort(env.PORT),
      host: env.MANAGEMENT_HOST,
    })),
);

function defaultManagementPort(publicPort: number | undefined): number {
  if (publicPort === undefined) return 0;
  if (publicPort === 0 || publicPort + MANAGEMENT_PORT_OFFSET > 65_535) return 0;
  return publicPort + MANAGEMENT_PORT_OFFSET;
}

/** Operator tokens: `OPERATOR_AUTH_JWT_PUBLIC_KEY` or `OPERATOR_AUTH_JWKS_URL`, else (not in production) the dev key. */
export const operatorAuthSettings: SettingGroup<JwtAuthSettings> = jwtAuthSettings({
  prefix: 'OPERATOR_AUTH_',
  defaultScope: OPERATOR_SCOPE,
});

export interface ManagementSettings {
  readonly listener: ManagementListenerSettings;
  readonly operatorAuth: JwtAuthSettings;
}

/** Both halves, for an app's config: `management: managementSettings(5090)`. */
export function managementSettings(defaultPublicPort: number): SettingGroup<ManagementSettings> {
  const listener = managementListenerSettings;
  return envGroup(
    z.record(z.string(), z.string().optional()).transform((env, ctx): ManagementSettings => {
      const withPort = { PORT: String(defaultPublicPort), ...env };
      const parsedListener = listener.safeParse(withPort);
      const parsedAuth = operatorAuthSettings.safeParse(env);
      for (const issue of [...(parsedListener.error?.issues ?? []), ...(parsedAuth.error?.issues ?? [])]) {
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      }
      if (!parsedListener.success || !parsedAuth.success) return z.NEVER;
      return { listener: parsedListener.data, operatorAuth: parsedAuth.data };
    }),
  );
}
