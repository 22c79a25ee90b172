import {
  ACS_EMULATOR_ACCESS_KEY,
  ACS_EMULATOR_RESOURCE_ID,
  ConfigError,
  loadConfig,
} from '@notifications/config';
import { z } from 'zod';
import { acsEmulatorSigns, acsProductionSettings } from './acs-production.settings';

const REAL = 'endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0';
const REAL_ID =
  '/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/contoso';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(z.object({ acs: acsProductionSettings }), env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('acsProductionSettings', () => {
  it("refuses the emulator's endpoint, key, resource id and the default in production, never echoing the key", () => {
    const emulator = `endpoint=http://127.0.0.1:5099/;accesskey=${ACS_EMULATOR_ACCESS_KEY}`;
    const found = problems({
      APP_ENV: 'production',
      ACS_CONNECTION_STRING: emulator,
      ACS_RESOURCE_ID: ACS_EMULATOR_RESOURCE_ID,
    });
    expect(found).toEqual([
      "ACS_CONNECTION_STRING: the ACS emulator's (its endpoint is this machine (127.0.0.1:5099); its access key is " +
        "the emulator's public one): refused in production (set the real ACS resource's, or " +
        'ACS_ALLOW_EMULATOR_IN_PRODUCTION=true)',
      expect.stringMatching(/^ACS_RESOURCE_ID: the ACS emulator's resource id: refused in production/),
    ]);
    expect(found.join('\n')).not.toContain(ACS_EMULATOR_ACCESS_KEY);
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^ACS_CONNECTION_STRING: unset, so the ACS emulator's development default/),
    ]);
  });

  it('accepts a real resource in production, anything elsewhere, and the emulator when explicitly allowed', () => {
    expect(
      problems({ APP_ENV: 'production', ACS_CONNECTION_STRING: REAL, ACS_RESOURCE_ID: REAL_ID }),
    ).toEqual([]);
    expect(problems({ APP_ENV: 'test' })).toEqual([]);
    expect(problems({})).toEqual([]);
    expect(
      loadConfig(z.object({ acs: acsProductionSettings }), {
        APP_ENV: 'production',
        ACS_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
      }).acs,
    ).toEqual({ allowEmulatorInProduction: true });
  });

  it.each([
    ['endpoint=http://localhost:5099/;accesskey=c2VjcmV0', 1],
    ['endpoint=http://[::1]:5099/;accesskey=c2VjcmV0', 1],
    ['Endpoint=https://acs.example/;AccessKey=' + ACS_EMULATOR_ACCESS_KEY, 1],
    [REAL, 0],
  ])('finds %j to show %d sign(s) of the emulator', (connectionString, signs) => {
    expect(acsEmulatorSigns(connectionString)).toHaveLength(signs);
  });
});
