import { type PipelineOptions } from './pipeline';

/**
 * Settings that make the pipeline's deliberate waits short enough for tests (retry delays, status-check
 * intervals, resend delay after a transient failure), and batches small enough that a few hundred recipients
 * span several claims and Kafka batches. Everything else is the apps' production default.
 */
export const FAST_PIPELINE_ENV: NonNullable<PipelineOptions['env']> = {
  orders: {
    ORDERS_EMAIL_BATCH_SIZE: '100',
    ORDERS_TRANSIENT_RESEND_DELAY: '1s',
    ORDERS_SWEEP_INTERVAL: '2s',
  },
  'email-sender': {
    ACS_MAX_RETRIES: '1',
    ACS_RETRY_DELAY_MS: '100ms',
    ACS_MAX_RETRY_DELAY_MS: '1s',
    EMAIL_RETRY_INITIAL_DELAY_MS: '300ms',
    EMAIL_RETRY_MULTIPLIER: '2',
  },
  'status-poller': {
    STATUS_CHECK_FIRST_DELAY_MS: '1s',
    STATUS_CHECK_MAX_INTERVAL_MS: '4s',
  },
};

/** Merges per-app settings over `FAST_PIPELINE_ENV`. */
export function fastPipelineEnv(extra: PipelineOptions['env'] = {}): NonNullable<PipelineOptions['env']> {
  const merged: NonNullable<PipelineOptions['env']> = { ...FAST_PIPELINE_ENV };
  for (const [app, env] of Object.entries(extra) as [keyof typeof merged, Record<string, string>][]) {
    merged[app] = { ...(FAST_PIPELINE_ENV[app] ?? {}), ...env };
  }
  return merged;
}
