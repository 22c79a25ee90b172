import { type TopicDefinition } from '@notifications/contracts';
import { type MessageContext } from '../lib/consumer-runner';
import { type RetryPolicy } from '../lib/retry-policy';

export const KAFKA_HANDLER_METADATA = 'notifications:kafka-handler';

export interface KafkaHandlerMetadata {
  readonly topic: TopicDefinition<unknown>;
  readonly retryPolicy?: RetryPolicy;
}

/**
 * Marks a provider method as the handler of a topic (and, implicitly, of its retry topic). The method receives
 * the message already validated against the topic's contract; the decorator's types make the method's first
 * parameter match the topic's payload type.
 *
 *   @KafkaHandler(Topics.emailQueue)
 *   async send(email: Email, context: MessageContext): Promise<void> { … }
 */
export function KafkaHandler<T>(topic: TopicDefinition<T>, options: { retryPolicy?: RetryPolicy } = {}) {
  return <M extends (message: T, context: MessageContext) => Promise<void>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    const metadata: KafkaHandlerMetadata = { topic: topic as TopicDefinition<unknown>, ...options };
    Reflect.defineMetadata(KAFKA_HANDLER_METADATA, metadata, target, propertyKey);
    void descriptor;
  };
}
