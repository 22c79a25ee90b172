import { type TopicDefinition } from '@notifications/contracts';
import { type MessageProducer } from './producer';

export interface KafkaHealthCheckOptions {
  /** A publish slower than this counts as a failure. */
  readonly timeoutMs?: number;
  /** How long a success is reused; readiness probes then cost one publish per interval, not one per probe. */
  readonly cacheMs?: number;
  /** Failures are cached briefly too, so a probe storm during an outage does not pile up publishes. */
  readonly failureCacheMs?: number;
}

/**
 * Readiness check that publishes the reference's health message (`test`) to the service's health topic.
 * Cheap and bounded: one in-flight check at a time, a hard timeout, and a cached result. (The reference disabled
 * its Kafka health check as "believed to cause instability"; it created a producer per check.)
 */
export class KafkaHealthCheck {
  readonly name = 'kafka';
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly failureCacheMs: number;
  private cached: { until: number; error?: Error } | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly producer: MessageProducer,
    private readonly healthTopic: TopicDefinition<string>,
    options: KafkaHealthCheckOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.cacheMs = options.cacheMs ?? 10_000;
    this.failureCacheMs = options.failureCacheMs ?? 2_000;
  }

  async check(): Promise<void> {
    const now = Date.now();
    if (this.cached && this.cached.until > now) {
      if (this.cached.error) throw this.cached.error;
      return;
    }
    this.inFlight ??= this.probe().finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  private async probe(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Kafka did not acknowledge a health message on ${this.healthTopic.name} within ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([this.producer.publish(this.healthTopic, 'test'), timeout]);
      this.cached = { until: Date.now() + this.cacheMs };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.cached = { until: Date.now() + this.failureCacheMs, error: failure };
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }
}
