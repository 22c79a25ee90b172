import { Logger } from '@nestjs/common';
import { type LogFields, type MessagingLogger } from '../lib/logger';

/** Routes the runtime's structured log lines through Nest's logger (and so through whatever the app installed). */
export function nestMessagingLogger(context = 'Kafka'): MessagingLogger {
  const logger = new Logger(context);
  const format = (message: string, fields?: LogFields): string =>
    fields && Object.keys(fields).length > 0 ? `${message} ${JSON.stringify(fields)}` : message;
  return {
    debug: (message, fields) => logger.debug(format(message, fields)),
    info: (message, fields) => logger.log(format(message, fields)),
    warn: (message, fields) => logger.warn(format(message, fields)),
    error: (message, fields) => logger.error(format(message, fields)),
  };
}
