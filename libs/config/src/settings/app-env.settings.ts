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
