import { type ManagementSettings } from '@notifications/config';
import { type Logger as PinoRootLogger } from 'pino';
import { type Registry } from 'prom-client';

export const OBSERVABILITY_OPTIONS = Symbol('OBSERVABILITY_OPTIONS');

export interface ObservabilityModuleOptions {
  /** The app's name: `service` on log lines, metrics and the status document. */
  readonly service: string;
  /** The app's root logger (`createLogger`); default: a silent one (tests). */
  readonly logger?: PinoRootLogger;
  /** One log line per HTTP request (health probes and scrapes excepted). Default true. */
  readonly httpRequests?: boolean;
  /** Default: a fresh registry with the process metrics. Pass one to add the app's own metrics to it. */
  readonly registry?: Registry;
  /**
   * Fields taken from a consumed message into its log context. Default: `orderId`, `notificationId` and
   * `operationId` when the message has them at the top level.
   */
  readonly correlationFields?: (topic: string, message: unknown) => Record<string, string> | undefined;
  /**
   * The management listener and the operator credential (`managementSettings` of libs/config). Without it the app
   * has no management listener and every management route (`/metrics`, `/status`, operator endpoints) answers 404.
   */
  readonly management?: ManagementSettings;
  /** Runs when the app shuts down, after everything else (e.g. flushing buffered spans). */
  readonly onShutdown?: () => Promise<void>;
}
