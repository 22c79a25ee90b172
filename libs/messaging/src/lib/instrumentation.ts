import { type DeadLetterReason } from './headers';

/** What the runtime knows about a consumed message before its payload is parsed. */
export interface ConsumedMessageInfo {
  /** The topic the message was read from (a main topic or its retry topic). */
  readonly topic: string;
  /** The main topic whose handler processes it. */
  readonly handlerTopic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  /** 1 on first delivery, then 2, 3, … on retries. */
  readonly attempt: number;
  readonly groupId: string;
}

/** A partition paused because shared infrastructure was unavailable. */
export interface OutagePause {
  readonly topic: string;
  readonly partition: number;
  readonly dependency: string;
  /** When this partition's run of outage pauses began (epoch ms). */
  readonly since: number;
  readonly delayMs: number;
}

/** How the processing of a consumed message ended; `abandoned` = no durable outcome, it will be read again. */
export type MessageOutcome = 'handled' | 'retried' | 'dead-lettered' | 'abandoned';

/**
 * Hooks for metrics and log context, framework-free: an app plugs in what it uses (prom-client, pino) without
 * this lib depending on either. Every hook is optional and must be cheap: they run once per message.
 */
export interface MessagingInstrumentation {
  /** Wraps the whole processing of one message (parse, handler, retry/dead-letter publish); call `run` once. */
  aroundMessage?<T>(message: ConsumedMessageInfo, run: () => Promise<T>): Promise<T>;
  /** The payload passed its contract (inside `aroundMessage`). */
  messageParsed?(message: ConsumedMessageInfo, payload: unknown): void;
  messageFinished?(
    message: ConsumedMessageInfo,
    outcome: MessageOutcome,
    durationMs: number,
    deadLetterReason?: DeadLetterReason,
  ): void;
  /** The broker acknowledged `count` messages to `topic`. */
  messagesPublished?(topic: string, count: number): void;
  /** A record was refused for good (e.g. `too-large`: it fits in no produce request). */
  recordRefused?(topic: string, reason: string): void;
  /** The producer was replaced after a failed request; `reason` is the Kafka error type or the error's name. */
  producerRecreated?(reason: string): void;
  /** A consumer paused a partition because shared infrastructure is unavailable (once per pause). */
  consumerPaused?(groupId: string, pause: OutagePause): void;
}

/** Fans each hook out to the registered instrumentations; with none registered every call is a no-op. */
export class InstrumentationHub implements Required<MessagingInstrumentation> {
  private readonly arounds: Required<MessagingInstrumentation>['aroundMessage'][] = [];
  private readonly parsed: Required<MessagingInstrumentation>['messageParsed'][] = [];
  private readonly finished: Required<MessagingInstrumentation>['messageFinished'][] = [];
  private readonly published: Required<MessagingInstrumentation>['messagesPublished'][] = [];
  private readonly refused: Required<MessagingInstrumentation>['recordRefused'][] = [];
  private readonly recreated: Required<MessagingInstrumentation>['producerRecreated'][] = [];
  private readonly paused: Required<MessagingInstrumentation>['consumerPaused'][] = [];

  /** Whether any hook wraps messages (else the runner calls its processing directly). */
  get wrapsMessages(): boolean {
    return this.arounds.length > 0;
  }

  /** Whether anyone wants outcomes and durations (else the runner does not read the clock). */
  get observesOutcomes(): boolean {
    return this.finished.length > 0;
  }

  /** Whether anyone counts publishes (saves grouping every produced batch by topic when not). */
  get observesPublishes(): boolean {
    return this.published.length > 0;
  }

  add(instrumentation: MessagingInstrumentation): void {
    const i = instrumentation;
    if (i.aroundMessage) this.arounds.push(i.aroundMessage.bind(i));
    if (i.messageParsed) this.parsed.push(i.messageParsed.bind(i));
    if (i.messageFinished) this.finished.push(i.messageFinished.bind(i));
    if (i.messagesPublished) this.published.push(i.messagesPublished.bind(i));
    if (i.recordRefused) this.refused.push(i.recordRefused.bind(i));
    if (i.producerRecreated) this.recreated.push(i.producerRecreated.bind(i));
    if (i.consumerPaused) this.paused.push(i.consumerPaused.bind(i));
  }

  aroundMessage<T>(message: ConsumedMessageInfo, run: () => Promise<T>): Promise<T> {
    let wrapped = run;
    for (let index = this.arounds.length - 1; index >= 0; index -= 1) {
      const around = this.arounds[index] as Required<MessagingInstrumentation>['aroundMessage'];
      const inner = wrapped;
      wrapped = () => around(message, inner);
    }
    return wrapped();
  }

  messageParsed(message: ConsumedMessageInfo, payload: unknown): void {
    for (const hook of this.parsed) hook(message, payload);
  }

  messageFinished(
    message: ConsumedMessageInfo,
    outcome: MessageOutcome,
    durationMs: number,
    deadLetterReason?: DeadLetterReason,
  ): void {
    for (const hook of this.finished) hook(message, outcome, durationMs, deadLetterReason);
  }

  messagesPublished(topic: string, count: number): void {
    for (const hook of this.published) hook(topic, count);
  }

  recordRefused(topic: string, reason: string): void {
    for (const hook of this.refused) hook(topic, reason);
  }

  producerRecreated(reason: string): void {
    for (const hook of this.recreated) hook(reason);
  }

  consumerPaused(groupId: string, pause: OutagePause): void {
    for (const hook of this.paused) hook(groupId, pause);
  }
}
