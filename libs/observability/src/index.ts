export * from './lib/logging/create-logger';
export * from './lib/logging/log-redaction';
export * from './lib/metrics/messaging-metrics';
export * from './lib/metrics/metrics-registry';
export * from './lib/metrics/prometheus-text';
export * from './lib/status/service-status';
export * from './lib/tracing/tracing';
export * from './nest';
