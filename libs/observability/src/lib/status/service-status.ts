import { type ConsumerState, type KafkaRuntime, type RecentError } from '@notifications/messaging';

/** How many of the latest errors `GET /status` lists, across the app's consumers. */
export const STATUS_RECENT_ERRORS = 20;

export interface ConsumerStatus {
  readonly groupId: string;
  readonly state: ConsumerState;
  readonly lastCrash?: string;
  readonly received: number;
  readonly delivered: number;
  readonly inProcess: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly lost: number;
}

/**
 * The app's `$status` (in the spirit of Aidbox's): since when it runs and what its consumers did with what they
 * read. `delivered` = handled successfully; `lost` = messages whose processing finished — so their offset became
 * committable — without any of the outcomes handled, retried or dead-lettered being recorded. The runtime has no
 * path that does that, so anything but 0 is a bug worth an alert.
 */
export interface ServiceStatus {
  readonly service: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly received: number;
  readonly delivered: number;
  readonly inProcess: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly consumers: readonly ConsumerStatus[];
  readonly recentErrors: readonly RecentError[];
}

export class StatusTracker {
  readonly startedAt = new Date();

  constructor(
    readonly service: string,
    private readonly runtime: KafkaRuntime,
  ) {}

  status(now = new Date()): ServiceStatus {
    const consumers: ConsumerStatus[] = [];
    const errors: RecentError[] = [];
    for (const runner of this.runtime.consumerRunners) {
      const stats = runner.statistics();
      consumers.push({
        groupId: runner.groupId,
        state: stats.state,
        ...(stats.lastCrash === undefined ? {} : { lastCrash: stats.lastCrash }),
        received: stats.received,
        delivered: stats.handled,
        inProcess: stats.inProcess,
        retried: stats.retried,
        deadLettered: stats.deadLettered,
        lost: stats.lost,
      });
      errors.push(...stats.recentErrors);
    }
    const sum = (pick: (consumer: ConsumerStatus) => number): number =>
      consumers.reduce((total, consumer) => total + pick(consumer), 0);
    return {
      service: this.service,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((now.getTime() - this.startedAt.getTime()) / 1000),
      received: sum((c) => c.received),
      delivered: sum((c) => c.delivered),
      inProcess: sum((c) => c.inProcess),
      retried: sum((c) => c.retried),
      deadLettered: sum((c) => c.deadLettered),
      lost: sum((c) => c.lost),
      consumers,
      recentErrors: errors.sort((a, b) => a.at.localeCompare(b.at)).slice(-STATUS_RECENT_ERRORS),
    };
  }
}
