export * from './consumer-host';
export * from './kafka-handler.decorator';
export * from './messaging-options';
export * from './messaging.module';
export * from './nest-logger';
