import {
  appEnvSettings,
  DEFAULT_DEV_KEY_FILE,
  envDurationMs,
  envString,
  envUrl,
  kafkaSettings,
  loadConfig,
} from '@notifications/config';
import { z } from 'zod';

export const opsConfigSchema = z.object({
  env: appEnvSettings,
  kafka: kafkaSettings('ops'),
  /** The orders app's management listener (its operator endpoints live under `/notifications/api/v1/internal`). */
  ORDERS_MANAGEMENT_URL: envUrl('http://127.0.0.1:5190', { protocols: ['http', 'https'] }),
  /** The email-sender app's management listener (its operator endpoints live under `/internal`). */
  EMAIL_SENDER_MANAGEMENT_URL: envUrl('http://127.0.0.1:5191', { protocols: ['http', 'https'] }),
  /**
   * An operator's bearer token (scope altinn:notifications.operator). Unset outside production: a token is
   * minted with the development key, which the apps trust on their development defaults.
   */
  OPS_TOKEN: envString().optional(),
  /** The development key that mints operator tokens when OPS_TOKEN is unset (the apps' default). */
  OPERATOR_AUTH_DEV_KEY_FILE: envString(DEFAULT_DEV_KEY_FILE),
  /** How long one HTTP call to an app may take. */
  OPS_HTTP_TIMEOUT: envDurationMs('10s', { min: 100 }),
  /** How long reading a topic may go without progress before the command gives up. */
  OPS_KAFKA_READ_TIMEOUT: envDurationMs('30s', { min: 1_000 }),
});

export type OpsConfig = Readonly<z.infer<typeof opsConfigSchema>>;

/** Reads and validates every setting once; throws ConfigError listing every bad variable. */
export function loadOpsConfig(env: Record<string, string | undefined>): OpsConfig {
  return loadConfig(opsConfigSchema, env);
}
