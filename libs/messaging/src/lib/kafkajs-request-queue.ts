import { createRequire } from 'node:module';

/** The kafkajs release whose request queue this file corrects (the version package.json pins). */
export const KAFKAJS_VERSION_CORRECTED = '2.2.4';

/** The part of kafkajs' internal `RequestQueue` (src/network/requestQueue) this file touches. */
export interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

interface RequestQueueClass {
  prototype: KafkajsRequestQueue;
  new (options: { logger: unknown; clientId?: string; broker?: string }): KafkajsRequestQueue;
}

const load = createRequire(__filename);
let corrected = false;

/**
 * kafkajs 2.2.4 re-arms a timer after every check of a connection's pending requests, also when none is pending
 * and nothing is throttled, with a negative delay that Node turns into 1 ms: every broker connection runs about
 * a thousand timer callbacks a second for as long as it is open, and Node 24 prints `TimeoutNegativeWarning`
 * (kafkajs issues #1704 and #1751, open since 2024; fixes proposed in PRs #1755 and #1768, never released). Measured
 * on the project machine: a producer and an admin client, idle, 1 752 checks and 31 CPU-ms a second. Every app
 * holds several such connections, so each burnt 3–5 % of a core doing nothing, under load too.
 *
 * The correction keeps kafkajs' behaviour wherever a check is due — a request waits in `pending` (throttled by the
 * broker, or past `maxInFlightRequests`): then the timer is armed as before — and arms nothing when `pending` is
 * empty: a request pushed later either goes out at once or is queued by `push`, which schedules its own check,
 * and every answer (`fulfillRequest`) checks again. Applied once, to kafkajs 2.2.4 only: another version is left as
 * it is (its request queue may differ; re-check the issue when upgrading).
 */
export function correctKafkajsRequestQueue(): boolean {
  if (corrected) return true;
  const { version } = load('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION_CORRECTED) return false;
  const RequestQueue = kafkajsRequestQueueClass();
  const scheduleAsReleased = RequestQueue.prototype.scheduleCheckPendingRequests;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleOnlyWhenPending(
    this: KafkajsRequestQueue,
  ): void {
    if (this.pending.length === 0) return;
    scheduleAsReleased.call(this);
  };
  corrected = true;
  return true;
}

/** kafkajs' internal RequestQueue class (no public export; the package has no `exports` map, so the path loads). */
export function kafkajsRequestQueueClass(): RequestQueueClass {
  return load('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
}
