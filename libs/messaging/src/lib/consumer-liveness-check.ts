import { type KafkaRuntime } from './kafka-runtime';

/**
 * Liveness of every consumer the runtime created (`ConsumerRunner.health()`): fails when one crashed without a
 * kafkajs restart, was stopped, or stalled with lag. A liveness (not readiness) check, because a restart is the
 * only cure and readiness only gates HTTP traffic — an unready pod whose consumer died would sit there forever,
 * and orders' public API does not need its consumer. An outage does not fail it: paused partitions are no stall.
 */
export class ConsumerLivenessCheck {
  readonly name = 'consumers';

  constructor(private readonly runtime: KafkaRuntime) {}

  check(): Promise<void> {
    const dead = this.runtime.consumerRunners.flatMap((runner) => {
      const health = runner.health();
      return health.alive ? [] : [`consumer group ${runner.groupId} ${health.reason}`];
    });
    return dead.length === 0 ? Promise.resolve() : Promise.reject(new Error(dead.join('; ')));
  }
}
