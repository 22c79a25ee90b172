import { Logger } from '@nestjs/common';
import { type LogFields, type MessagingLogger } from '../lib/logger';

/**
 * Routes the runtime's structured log lines through Nest's logger (and so through whatever the app installed),
 * fields as fields: a pino-backed logger (nestjs-pino) writes them as JSON properties next to `msg`.
 */
export function nestMessagingLogger(context = 'Kafka'): MessagingLogger {
  const logger = new Logger(context);
  const entry = (message: string, fields?: LogFields): string | Record<string, unknown> =>
    fields && Object.keys(fields).length > 0 ? { ...fields, msg: message } : message;
  return {
    debug: (message, fields) => logger.debug(entry(message, fields)),
    info: (message, fields) => logger.log(entry(message, fields)),
    warn: (message, fields) => logger.warn(entry(message, fields)),
    error: (message, fields) => logger.error(entry(message, fields)),
  };
}
