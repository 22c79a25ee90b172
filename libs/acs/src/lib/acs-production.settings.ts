import {
  ACS_EMULATOR_ACCESS_KEY,
  ACS_EMULATOR_RESOURCE_ID,
  envBool,
  envGroup,
  isProductionEnv,
  rawAppEnvFields,
  type SettingGroup,
} from '@notifications/config';
import { z } from 'zod';
import { parseAcsConnectionString } from './acs-connection-string';

export interface AcsProductionSettings {
  /** `ACS_ALLOW_EMULATOR_IN_PRODUCTION`: production may talk to the emulator (a load test, never real mail). */
  readonly allowEmulatorInProduction: boolean;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}

/** Why a connection string points at the emulator (empty when it does not). */
export function acsEmulatorSigns(connectionString: string): string[] {
  const signs: string[] = [];
  const parsed = parseAcsConnectionString(connectionString);
  // One that does not parse is refused by the app's own ACS group, with the format it should have.
  if (!parsed.ok) return signs;
  const { endpoint, accessKey } = parsed.value;
  if (isLoopbackHost(new URL(endpoint).hostname)) {
    signs.push(`its endpoint is this machine (${new URL(endpoint).host})`);
  }
  if (accessKey === ACS_EMULATOR_ACCESS_KEY) {
    signs.push("its access key is the emulator's public one");
  }
  return signs;
}

const ALLOW = 'ACS_ALLOW_EMULATOR_IN_PRODUCTION';

/**
 * Production checks of the ACS settings, for every app that calls ACS (email-sender, status-poller): the
 * emulator's endpoint (127.0.0.1/localhost), its public access key, its resource id and the development default
 * (which is the emulator) are refused unless `ACS_ALLOW_EMULATOR_IN_PRODUCTION=true`. Reads the variables as
 * written; the app's own ACS group parses them.
 */
export const acsProductionSettings: SettingGroup<AcsProductionSettings> = envGroup(
  z
    .object({
      ...rawAppEnvFields,
      ACS_CONNECTION_STRING: z.string().optional(),
      ACS_RESOURCE_ID: z.string().optional(),
      [ALLOW]: envBool(false),
    })
    .superRefine((env, ctx) => {
      if (!isProductionEnv(env) || env[ALLOW] === true) return;
      const refused = (variable: string, why: string) =>
        ctx.addIssue({
          code: 'custom',
          path: [variable],
          message: `${why}: refused in production (set the real ACS resource's, or ${ALLOW}=true)`,
        });
      const connectionString = env.ACS_CONNECTION_STRING?.trim();
      if (connectionString === undefined || connectionString === '') {
        refused('ACS_CONNECTION_STRING', "unset, so the ACS emulator's development default would be used");
      } else {
        const signs = acsEmulatorSigns(connectionString);
        if (signs.length > 0) refused('ACS_CONNECTION_STRING', `the ACS emulator's (${signs.join('; ')})`);
      }
      if (env.ACS_RESOURCE_ID?.trim().toLowerCase() === ACS_EMULATOR_RESOURCE_ID.toLowerCase()) {
        refused('ACS_RESOURCE_ID', "the ACS emulator's resource id");
      }
    })
    .transform((env): AcsProductionSettings => ({ allowEmulatorInProduction: env[ALLOW] })),
);
