import {
  type ConsumedMessageInfo,
  type DeadLetterReason,
  type KafkaRuntime,
  type MessageOutcome,
  type MessagingInstrumentation,
  type OutagePause,
} from '@notifications/messaging';
import { Counter, Gauge, type Registry } from 'prom-client';
import { BucketHistogram, type HistogramSeries } from './bucket-histogram';
import { METRIC_PREFIX } from './metrics-registry';

interface CounterChild {
  inc(value?: number): void;
}

/** The label-bound series of one topic, looked up once: label hashing per message would cost more than the rest. */
interface TopicSeries {
  readonly consumed: CounterChild;
  readonly retried: CounterChild;
  readonly duration: Readonly<Record<Exclude<MessageOutcome, 'abandoned'>, HistogramSeries>>;
}

/** Handler durations from 1 ms to 30 s: a Kafka handler is a DB write or an HTTP call, sometimes a slow one. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The messaging runtime's metrics, fed by its instrumentation hooks (counters are bumped in memory; nothing here
 * talks to the broker). Consumer lag is read at scrape time from what the consumers already know: the high
 * watermark of their last fetch per partition against the next offset to process.
 */
export class MessagingMetrics implements MessagingInstrumentation {
  private readonly consumed: Counter<'topic'>;
  private readonly produced: Counter<'topic'>;
  private readonly retried: Counter<'topic'>;
  private readonly deadLettered: Counter<'topic' | 'reason'>;
  private readonly refused: Counter<'topic' | 'reason'>;
  private readonly producerRecreations: Counter<'reason'>;
  private readonly pauses: Counter<'group' | 'topic' | 'reason'>;
  private readonly duration: BucketHistogram;
  private readonly runtimes = new Set<KafkaRuntime>();
  private readonly topics = new Map<string, TopicSeries>();
  private readonly producedByTopic = new Map<string, CounterChild>();

  constructor(registry: Registry) {
    this.consumed = new Counter({
      name: `${METRIC_PREFIX}messages_consumed_total`,
      help: 'Messages taken from Kafka and processed to an outcome, by the topic they were read from',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.produced = new Counter({
      name: `${METRIC_PREFIX}messages_produced_total`,
      help: 'Messages the broker acknowledged, by topic (retry and dead-letter copies included)',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.retried = new Counter({
      name: `${METRIC_PREFIX}messages_retried_total`,
      help: 'Messages whose handler failed and that were re-published to their retry topic, by the topic read from',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.refused = new Counter({
      name: `${METRIC_PREFIX}messages_refused_total`,
      help: 'Records the producer refused for good (e.g. too large for any produce request), by topic and reason',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    });
    this.producerRecreations = new Counter({
      name: `${METRIC_PREFIX}producer_recreated_total`,
      help: 'Times the Kafka producer was replaced after a failed produce request, by Kafka error type',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.deadLettered = new Counter({
      name: `${METRIC_PREFIX}messages_dead_lettered_total`,
      help: 'Messages moved to their dead-letter topic, by the topic read from and the reason',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    });
    this.duration = new BucketHistogram(
      `${METRIC_PREFIX}message_handler_duration_seconds`,
      'Time from taking a message to its durable outcome (handler plus retry/dead-letter publish)',
      DURATION_BUCKETS,
      registry,
    );
    this.pauses = new Counter({
      name: `${METRIC_PREFIX}consumer_pauses_total`,
      help: 'Partition pauses because shared infrastructure (reason: postgresql, kafka, acs) was unavailable; no attempt is spent',
      labelNames: ['group', 'topic', 'reason'],
      registers: [registry],
    });
    const runtimes = this.runtimes;
    new Gauge({
      name: `${METRIC_PREFIX}consumer_paused`,
      help: 'Partitions paused right now because shared infrastructure (reason) is unavailable, per group and topic',
      labelNames: ['group', 'topic', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        const counts = new Map<string, { group: string; topic: string; reason: string; count: number }>();
        for (const runtime of runtimes) {
          for (const runner of runtime.consumerRunners) {
            for (const pause of runner.outagePaused()) {
              const key = `${runner.groupId}\u0000${pause.topic}\u0000${pause.dependency}`;
              const entry = counts.get(key) ?? {
                group: runner.groupId,
                topic: pause.topic,
                reason: pause.dependency,
                count: 0,
              };
              entry.count += 1;
              counts.set(key, entry);
            }
          }
        }
        for (const { count, ...labels } of counts.values()) this.set(labels, count);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}consumer_lag`,
      help: "Messages behind the partition's high watermark (as of the consumer's last fetch), per consumer group and partition",
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const runtime of runtimes) {
          for (const runner of runtime.consumerRunners) {
            for (const lag of runner.partitionLag()) {
              this.set(
                { group: runner.groupId, topic: lag.topic, partition: String(lag.partition) },
                lag.lag,
              );
            }
          }
        }
      },
    });
  }

  /** Starts counting this runtime's traffic and reporting its consumers' lag. */
  attach(runtime: KafkaRuntime): void {
    if (this.runtimes.has(runtime)) return;
    this.runtimes.add(runtime);
    runtime.instrument(this);
  }

  messageFinished(
    message: ConsumedMessageInfo,
    outcome: MessageOutcome,
    durationMs: number,
    deadLetterReason?: DeadLetterReason,
  ): void {
    if (outcome === 'abandoned') return;
    const topic = message.topic;
    const series = this.topics.get(topic) ?? this.seriesOf(topic);
    series.consumed.inc();
    series.duration[outcome].observe(durationMs / 1000);
    if (outcome === 'retried') series.retried.inc();
    else if (outcome === 'dead-lettered')
      this.deadLettered.inc({ topic, reason: deadLetterReason ?? 'unknown' });
  }

  messagesPublished(topic: string, count: number): void {
    let produced = this.producedByTopic.get(topic);
    if (produced === undefined) {
      produced = this.produced.labels({ topic });
      this.producedByTopic.set(topic, produced);
    }
    produced.inc(count);
  }

  recordRefused(topic: string, reason: string): void {
    this.refused.inc({ topic, reason });
  }

  producerRecreated(reason: string): void {
    this.producerRecreations.inc({ reason });
  }

  consumerPaused(groupId: string, pause: OutagePause): void {
    this.pauses.inc({ group: groupId, topic: pause.topic, reason: pause.dependency });
  }

  private seriesOf(topic: string): TopicSeries {
    const series: TopicSeries = {
      consumed: this.consumed.labels({ topic }),
      retried: this.retried.labels({ topic }),
      duration: {
        handled: this.duration.series({ topic, outcome: 'handled' }),
        retried: this.duration.series({ topic, outcome: 'retried' }),
        'dead-lettered': this.duration.series({ topic, outcome: 'dead-lettered' }),
      },
    };
    this.topics.set(topic, series);
    return series;
  }
}
