import { envDurationMs, envUrl, kafkaSettings, loadConfig } from '@notifications/config';
import { z } from 'zod';

export const opsConfigSchema = z.object({
  kafka: kafkaSettings('ops'),
  /** Base URL of the orders app (its internal endpoints live under `/notifications/api/v1/internal`). */
  ORDERS_URL: envUrl('http://127.0.0.1:5090', { protocols: ['http', 'https'] }),
  /** Base URL of the email-sender app (its internal endpoints live under `/internal`). */
  EMAIL_SENDER_URL: envUrl('http://127.0.0.1:5091', { protocols: ['http', 'https'] }),
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
