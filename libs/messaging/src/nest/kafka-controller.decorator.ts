import {
  applyDecorators,
  Catch,
  Controller,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';

/**
 * Hands a consumer handler's exception back to the transport unchanged. Nest's default RPC filter would turn it
 * into an "Internal server error" value, erasing what the runner routes on: TransientError → retry topic,
 * PermanentError → dead-letter topic at once, InfrastructureUnavailableError → pause and read again. Thrown from
 * `catch`, the original error leaves Nest's RPC proxy as the handler's rejection, which `KafkaTransport` awaits.
 * Controller-scoped filters take precedence over global ones, so an app's HTTP filters never see it.
 */
@Catch()
export class RethrowToConsumerFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): never {
    void host;
    throw exception;
  }
}

/**
 * A controller of Kafka consumers: `@Controller()` with {@link RethrowToConsumerFilter}. Every consumer
 * controller uses it (without it, `KafkaTransport` sees Nest's generic error value and retries the message as a
 * wiring fault, never dead-letters it at once).
 *
 *   @KafkaController()
 *   export class EmailQueueConsumer {
 *     @EventPattern('emailQueue')
 *     async send(@Payload() email: Email, @Ctx() context: KafkaContext): Promise<void> { … }
 *   }
 */
export function KafkaController(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new RethrowToConsumerFilter()));
}
