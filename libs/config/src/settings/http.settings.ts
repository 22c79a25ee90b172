import { z } from 'zod';
import { envInt, envString } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';

export interface HttpSettings {
  readonly port: number;
  readonly host: string;
}

/** The HTTP listener (health endpoints, APIs, webhooks); `PORT=0` picks a free port. */
export function httpSettings(defaultPort: number): SettingGroup<HttpSettings> {
  return envGroup(
    z
      .object({
        PORT: envInt(defaultPort, { min: 0, max: 65_535 }),
        HOST: envString('0.0.0.0'),
      })
      .transform((env): HttpSettings => ({ port: env.PORT, host: env.HOST })),
  );
}
