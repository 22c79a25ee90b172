import { Logger } from '@nestjs/common';
import { ConfigError, redactConfig } from '@notifications/config';
import { createLogger, createNestLogger } from '@notifications/observability';
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
  // JSON lines (LOG_LEVEL, LOG_FORMAT=pretty for people), like the apps; secrets are redacted by the logger too.
  const { logging } = config.observability;
  const nestLogger = createNestLogger(createLogger({ service: 'acs-emulator', ...logging }), false);
  const logger = new Logger('AcsEmulator');
  const emulator = await startEmulator(config, { shutdownHooks: true, logger: nestLogger });
  if (config.env === 'production') logger.warn('the ACS emulator is for development and tests only');
  logger.log({ msg: 'Configuration', config: redactConfig(config) });
  process.stdout.write(`${LISTENING_LINE_PREFIX}${emulator.url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ACS emulator failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
