import { EmailContract, type Email, type TopicDefinition } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  KafkaRuntime,
  MessagingHeaders,
  PermanentError,
  handlerFor,
  isTracingActive,
  silentLogger,
  type ConsumerRunner,
  type MessageContext,
} from '../src';
import { testEmail } from './fixtures/email-messages';

const traceIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split('-')[1];

describe('trace context through Kafka', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  let env: KafkaTestEnvironment;
  let runtimes: KafkaRuntime[];

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });

  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  beforeEach(() => {
    env = new KafkaTestEnvironment('tracing');
    runtimes = [];
    exporter.reset();
  });

  afterEach(async () => {
    await Promise.allSettled(runtimes.map((runtime) => runtime.shutdown()));
    await env.cleanup();
  });

  function runtime(): KafkaRuntime {
    const created = new KafkaRuntime(env.connection, silentLogger);
    runtimes.push(created);
    return created;
  }

  async function emailTopic(label: string): Promise<TopicDefinition<Email>> {
    const topic = env.defineTopic(label, EmailContract, (email: Email) => email.notificationId);
    await env.createTopics(topic, 1);
    return topic;
  }

  async function consume(
    rt: KafkaRuntime,
    topic: TopicDefinition<Email>,
    handle: (email: Email, context: MessageContext) => Promise<void>,
  ): Promise<ConsumerRunner> {
    const consumer = rt.createConsumer(
      {
        groupId: env.uniqueName('group'),
        sessionTimeoutMs: 10_000,
        retryPolicy: { maxAttempts: 2, initialDelayMs: 100, multiplier: 1, maxDelayMs: 100 },
      },
      [handlerFor({ topic, handle })],
    );
    await consumer.start();
    return consumer;
  }

  /** Publishes inside a producer span; returns its trace id. */
  async function publishInSpan(
    rt: KafkaRuntime,
    topic: TopicDefinition<Email>,
    email: Email,
  ): Promise<string> {
    const span = trace.getTracer('test').startSpan('send order', { kind: SpanKind.PRODUCER });
    await context.with(trace.setSpan(context.active(), span), () => rt.producer.publish(topic, email));
    span.end();
    return span.spanContext().traceId;
  }

  it('runs the handler in a "process <topic>" span that continues the producer\'s trace', async () => {
    expect(isTracingActive()).toBe(true);
    const topic = await emailTopic('continue');
    const rt = runtime();
    const seen: { traceId?: string; headers: Readonly<Record<string, string>> }[] = [];
    await consume(rt, topic, async (_email, ctx) => {
      seen.push({ traceId: trace.getActiveSpan()?.spanContext().traceId, headers: ctx.headers });
    });

    const traceId = await publishInSpan(rt, topic, testEmail());

    await expectEventually(() => expect(seen).toHaveLength(1));
    expect(traceIdOf(seen[0]?.headers['traceparent'])).toBe(traceId);
    expect(seen[0]?.traceId).toBe(traceId);
    const spans = await expectEventually(() => {
      const found = exporter.getFinishedSpans().filter((s) => s.name === `process ${topic.name}`);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(spans[0]).toMatchObject({
      kind: SpanKind.CONSUMER,
      attributes: expect.objectContaining({
        'messaging.system': 'kafka',
        'messaging.destination.name': topic.name,
        'messaging.kafka.offset': 0,
      }) as unknown,
    });
    expect(spans[0]?.spanContext().traceId).toBe(traceId);
  });

  it('publishes without trace headers when no span is active', async () => {
    const topic = await emailTopic('untraced');
    const rt = runtime();
    const seen: Readonly<Record<string, string>>[] = [];
    await consume(rt, topic, async (_email, ctx) => {
      seen.push(ctx.headers);
    });

    await rt.producer.publish(topic, testEmail());

    await expectEventually(() => expect(seen).toHaveLength(1));
    expect(seen[0]?.['traceparent']).toBeUndefined();
  });

  it('keeps the original traceparent on retried and dead-lettered copies, so every attempt joins the trace', async () => {
    const topic = await emailTopic('retry');
    const rt = runtime();
    const attempts: { attempt: number; traceId?: string }[] = [];
    await consume(rt, topic, async (_email, ctx) => {
      attempts.push({ attempt: ctx.attempt, traceId: trace.getActiveSpan()?.spanContext().traceId });
      if (ctx.attempt === 1) throw new Error('try again');
      throw new PermanentError('give up');
    });

    const traceId = await publishInSpan(rt, topic, testEmail());

    await expectEventually(() => expect(attempts).toHaveLength(2));
    expect(attempts).toEqual([
      { attempt: 1, traceId },
      { attempt: 2, traceId },
    ]);
    const retried = await env.read([topic.retryTopic as string]);
    const deadLetters = await env.read([topic.deadLetterTopic]);
    await expectEventually(() => {
      expect(retried).toHaveLength(1);
      expect(deadLetters).toHaveLength(1);
    });
    expect(traceIdOf(retried[0]?.headers['traceparent'])).toBe(traceId);
    const deadLettered = deadLetters[0];
    expect(deadLettered?.headers[MessagingHeaders.deadLetterReason]).toBe('permanent-failure');
    expect(traceIdOf(deadLettered?.headers['traceparent'])).toBe(traceId);
    const processSpans = exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith('process '))
      .map((s) => s.spanContext().traceId);
    expect(processSpans).toEqual([traceId, traceId]);
  });
  it("runs a batch handler in one span in the first message's trace, linked to the others'", async () => {
    const topic = await emailTopic('batch');
    const rt = runtime();
    // On the broker before the consumer starts: one fetch, one batch.
    const traceIds: string[] = [];
    for (let index = 0; index < 3; index += 1) traceIds.push(await publishInSpan(rt, topic, testEmail()));
    const activeInBatch: (string | undefined)[] = [];
    const consumer = rt.createConsumer(
      {
        groupId: env.uniqueName('group'),
        sessionTimeoutMs: 10_000,
        retryPolicy: { maxAttempts: 2, initialDelayMs: 100, multiplier: 1, maxDelayMs: 100 },
      },
      [
        handlerFor({
          topic,
          handle: async () => {
            throw new Error('not expected one at a time');
          },
          handleBatch: async (messages) => {
            expect(messages).toHaveLength(3);
            activeInBatch.push(trace.getActiveSpan()?.spanContext().traceId);
          },
        }),
      ],
    );
    await consumer.start();

    const span = await expectEventually(() => {
      const found = exporter.getFinishedSpans().filter((s) => s.name === `process ${topic.name}`);
      expect(found).toHaveLength(1);
      return found[0]!;
    });
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.attributes['messaging.batch.message_count']).toBe(3);
    expect(span.spanContext().traceId).toBe(traceIds[0]);
    expect(activeInBatch).toEqual([traceIds[0]]);
    expect(span.links.map((link) => link.context.traceId)).toEqual(traceIds.slice(1));
  });
});
