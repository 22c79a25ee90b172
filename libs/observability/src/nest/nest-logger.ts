import { type LoggerService } from '@nestjs/common';
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
