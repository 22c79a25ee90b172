import { Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of ours starts with this, so one dashboard query finds them all. */
export const METRIC_PREFIX = 'notifications_';

/**
 * A registry per app instance (never prom-client's global one: tests run several apps in one process), with the
 * default process and Node.js metrics and a `service` label on every series.
 */
export function createMetricsRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
