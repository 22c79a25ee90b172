import { type ConsumedMessageInfo, type MessagingInstrumentation } from '@notifications/messaging';
import { type PinoLogger } from 'nestjs-pino';

const CORRELATION_KEYS = ['orderId', 'notificationId', 'operationId'] as const;

/** `orderId`, `notificationId`, `operationId` when a message has them (non-empty strings) at the top level. */
export function defaultCorrelationFields(
  _topic: string,
  message: unknown,
): Record<string, string> | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  let fields: Record<string, string> | undefined;
  for (const key of CORRELATION_KEYS) {
    const value = (message as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') (fields ??= {})[key] = value;
  }
  return fields;
}

/**
 * Runs the processing of every consumed message in its own logging context, so that each line logged
 * meanwhile (by the handler, the services it calls, or the runtime's retry and dead-letter routing) carries
 * `topic`, `partition`, `offset`, `attempt` and `consumerGroup`, then the message's correlation ids once it
 * is parsed.
 */
export class LogContextInstrumentation implements MessagingInstrumentation {
  constructor(
    private readonly logger: PinoLogger,
    private readonly correlationFields: (
      topic: string,
      message: unknown,
    ) => Record<string, string> | undefined = defaultCorrelationFields,
  ) {}

  aroundMessage<T>(info: ConsumedMessageInfo, run: () => Promise<T>): Promise<T> {
    return this.logger.runInContext(run, {
      bindings: {
        topic: info.topic,
        partition: info.partition,
        offset: info.offset,
        attempt: info.attempt,
        consumerGroup: info.groupId,
      },
    });
  }

  messageParsed(info: ConsumedMessageInfo, message: unknown): void {
    const fields = this.correlationFields(info.handlerTopic, message);
    if (fields !== undefined) this.logger.assign(fields);
  }
}
