import { Logger } from '@nestjs/common';
import { ConfigError, redactConfig } from '@notifications/config';
import { loadEmulatorConfig, type EmulatorConfig } from './config/emulator.config';
import { startEmulator } from './emulator';

/**
 * The line other apps' tests wait for (see README "Starting it from another app's tests"). Keep the wording:
 * it is matched by /ACS emulator listening on (http:\/\/\S+)/.
 */
export const LISTENING_LINE_PREFIX = 'ACS emulator listening on ';

function loadConfigOrExit(): EmulatorConfig {
  try {
    return loadEmulatorConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new Logger('AcsEmulator');
  if (config.env === 'production') logger.warn('the ACS emulator is for development and tests only');
  const emulator = await startEmulator(config, { shutdownHooks: true });
  logger.log(`configuration: ${JSON.stringify(redactConfig(config))}`);
  process.stdout.write(`${LISTENING_LINE_PREFIX}${emulator.url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ACS emulator failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
