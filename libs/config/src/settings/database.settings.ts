import { z } from 'zod';
import { envDurationMs, envInt, envUrl } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';

export interface DatabaseSettings {
  /** May carry a password: log it only through `redactConfig`. */
  readonly url: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/notifications';

/** PostgreSQL connection settings. */
export const databaseSettings: SettingGroup<DatabaseSettings> = envGroup(
  z
    .object({
      DATABASE_URL: envUrl(DEFAULT_DATABASE_URL, { protocols: ['postgres', 'postgresql'] }),
      DATABASE_POOL_SIZE: envInt(10, { min: 1, max: 1000 }),
      DATABASE_STATEMENT_TIMEOUT_MS: envDurationMs('30s', { min: 1 }),
    })
    .transform((env): DatabaseSettings => ({
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    })),
);
