import { z } from 'zod';
import { envBool } from '../env-schemas';
import { envGroup, type SettingGroup } from '../load-config';
import { isProductionEnv, rawAppEnvFields } from './app-env.settings';

/**
 * The ACS emulator's access key (`apps/acs-emulator`): base64 of the ASCII text
 * `acs-emulator-development-access-key-not-a-secret`. Public on purpose, so it is no credential at all: the apps
 * default to it in development and test, and production refuses it.
 */
export const ACS_EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

/**
 * Resource id of the emulator's pretend ACS resource, in the form Event Grid puts in an event's `topic` (Event
 * Grid schema) or `source` (CloudEvents): the source status-poller accepts delivery reports from by default.
 */
export const ACS_EMULATOR_RESOURCE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/acs-emulator' +
  '/providers/Microsoft.Communication/communicationServices/acs-emulator';

/**
 * The header status-poller's delivery-report webhook reads its key from. Event Grid sends it as a static, secret
 * custom delivery property of the subscription ("Custom delivery properties",
 * https://learn.microsoft.com/azure/event-grid/delivery-properties); the emulator sends it the same way.
 */
export const DELIVERY_REPORT_KEY_HEADER = 'X-Delivery-Report-Key';

export interface AcsProductionSettings {
  /** `ACS_ALLOW_EMULATOR_IN_PRODUCTION`: production may talk to the emulator (a load test, never real mail). */
  readonly allowEmulatorInProduction: boolean;
}

function connectionStringPart(connectionString: string, name: string): string | undefined {
  const part = connectionString
    .split(';')
    .map((item) => item.trim())
    .find((item) => item.toLowerCase().startsWith(`${name}=`));
  return part?.slice(name.length + 1).trim();
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
  const endpoint = connectionStringPart(connectionString, 'endpoint');
  if (endpoint !== undefined && URL.canParse(endpoint) && isLoopbackHost(new URL(endpoint).hostname)) {
    signs.push(`its endpoint is this machine (${new URL(endpoint).host})`);
  }
  if (connectionStringPart(connectionString, 'accesskey') === ACS_EMULATOR_ACCESS_KEY) {
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
