// The Nest adapter (`@notifications/messaging/nest`): the framework-free core is `@notifications/messaging`.
export * from './kafka-context';
export * from './kafka-controller.decorator';
export * from './kafka-transport';
export * from './messaging-options';
export * from './messaging.module';
export * from './nest-logger';
export { type TopicBinding, type TopicKeys } from './topic-bindings';
