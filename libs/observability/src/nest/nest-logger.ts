import { type LoggerService, type LogLevel } from '@nestjs/common';
import { type PinoLevel } from '@notifications/config';
import { Logger, PinoLogger } from 'nestjs-pino';
import { type Logger as PinoRootLogger } from 'pino';
import { pinoHttpParams } from './pino-http-params';

/**
 * A Nest `LoggerService` over the app's pino logger, usable before the app exists (pass it to
 * `NestFactory.create` as `logger`): start-up lines are JSON too, and lines written while a request or a
 * Kafka message is handled carry its context (request id, topic/partition/offset…).
 */
export function createNestLogger(logger: PinoRootLogger, httpRequests = true): LoggerService {
  const params = pinoHttpParams(logger, httpRequests);
  return new Logger(new PinoLogger(params), params);
}

/** Nest's levels, least severe first, aligned with pino's (`verbose` = trace, `log` = info). */
const NEST_LEVELS: readonly LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
const PINO_TO_NEST: Readonly<Record<Exclude<PinoLevel, 'silent'>, LogLevel>> = {
  trace: 'verbose',
  debug: 'debug',
  info: 'log',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/** The Nest levels a `ConsoleLogger` must print to honour LOG_LEVEL (none for `silent`). */
export function nestLogLevels(level: PinoLevel): LogLevel[] {
  if (level === 'silent') return [];
  return NEST_LEVELS.slice(NEST_LEVELS.indexOf(PINO_TO_NEST[level]));
}
