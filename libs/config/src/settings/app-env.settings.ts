import { z } from 'zod';
import { envEnum } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';

export const APP_ENVS = ['development', 'test', 'production'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

/**
 * The deployment environment: `APP_ENV` when set, else `NODE_ENV`, else `development`. `APP_ENV` wins because
 * container images commonly bake in `NODE_ENV=production` whatever environment they run in.
 */
export const appEnvSettings: SettingGroup<AppEnv> = envGroup(
  z
    .object({
      APP_ENV: envEnum(APP_ENVS).optional(),
      NODE_ENV: envEnum(APP_ENVS).optional(),
    })
    .transform((env): AppEnv => env.APP_ENV ?? env.NODE_ENV ?? 'development'),
);

/** Reads APP_ENV and NODE_ENV as they are (never fails: `appEnvSettings` reports bad values). */
export const rawAppEnvFields = {
  APP_ENV: z.string().optional(),
  NODE_ENV: z.string().optional(),
};

/**
 * Whether the raw environment is production, by the rule of {@link appEnvSettings}. For setting groups whose
 * checks depend on the environment (they are fed the whole environment; declare {@link rawAppEnvFields}).
 */
export function isProductionEnv(env: { readonly APP_ENV?: unknown; readonly NODE_ENV?: unknown }): boolean {
  const chosen = [env.APP_ENV, env.NODE_ENV].find(
    (value) => typeof value === 'string' && value.trim() !== '',
  );
  return typeof chosen === 'string' && chosen.trim().toLowerCase() === 'production';
}
