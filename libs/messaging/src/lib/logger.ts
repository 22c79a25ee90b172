import { describeError } from './errors';

/**
 * The messaging runtime logs through this small interface so that apps can plug in their own logger
 * (Nest's Logger, pino) without the framework-free core depending on either.
 */
export type LogFields = Record<string, unknown>;

export interface MessagingLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** One JSON line per entry on stdout/stderr; the default when an app supplies no logger. */
export function createConsoleLogger(name: string, minimumLevel: Level = 'info'): MessagingLogger {
  const threshold = LEVELS.indexOf(minimumLevel);
  const write = (level: Level, message: string, fields?: LogFields): void => {
    if (LEVELS.indexOf(level) < threshold) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, logger: name, message, ...fields });
    if (level === 'error' || level === 'warn') process.stderr.write(line + '\n');
    else process.stdout.write(line + '\n');
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

export const silentLogger: MessagingLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** An error as log fields; the message without personal data (see `describeError`). */
export function errorFields(error: unknown): LogFields {
  const { errorClass, message } = describeError(error);
  return error instanceof Error ? { error: message, errorClass } : { error: message };
}
