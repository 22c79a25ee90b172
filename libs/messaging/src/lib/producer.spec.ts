import {
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  type Kafka,
  type Producer,
  type ProducerBatch,
} from 'kafkajs';
import { InstrumentationHub } from './instrumentation';
import { silentLogger } from './logger';
import { MessageProducer, RecordTooLargeError, encodedRecordBytes } from './producer';

/** A broker error as kafkajs raises it: the protocol error, wrapped by its retrier. */
function brokerError(type: string, code: number): Error {
  const protocolError = new KafkaJSProtocolError(
    Object.assign(new Error(`broker said ${type}`), { type, code, retriable: false }),
  );
  // kafkajs's retrier passes the cause at run time (src/retry/index.js); its typings omit that parameter.
  return Object.assign(new KafkaJSNonRetriableError(protocolError), { cause: protocolError });
}

interface FakeProducer {
  readonly batches: string[][];
  disconnected: boolean;
}

/**
 * A kafkajs client whose producers record what they are asked to send; `answer` decides per batch (by the
 * values in it) whether the "broker" refuses it. Unit-level: the real broker's answers are covered in
 * test/producer-limits.spec.ts.
 */
function fakeKafka(answer: (values: readonly string[], producerIndex: number) => Error | undefined): {
  kafka: Kafka;
  producers: FakeProducer[];
} {
  const producers: FakeProducer[] = [];
  const kafka = {
    producer: (): Producer => {
      const index = producers.length;
      const state: FakeProducer = { batches: [], disconnected: false };
      producers.push(state);
      return {
        connect: () => Promise.resolve(),
        disconnect: () => {
          state.disconnected = true;
          return Promise.resolve();
        },
        sendBatch: (batch: ProducerBatch) => {
          const values = (batch.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.value)));
          state.batches.push(values);
          const error = answer(values, index);
          return error === undefined ? Promise.resolve([]) : Promise.reject(error);
        },
      } as unknown as Producer;
    },
  } as unknown as Kafka;
  return { kafka, producers };
}

function recordingHub(): { hub: InstrumentationHub; recreated: string[]; refused: string[] } {
  const hub = new InstrumentationHub();
  const recreated: string[] = [];
  const refused: string[] = [];
  hub.add({
    producerRecreated: (reason) => recreated.push(reason),
    recordRefused: (topic, reason) => refused.push(`${topic}:${reason}`),
  });
  return { hub, recreated, refused };
}

describe(MessageProducer.name, () => {
  it('replaces a producer that answered OUT_OF_ORDER_SEQUENCE_NUMBER and sends the batch again on the new one', async () => {
    const { kafka, producers } = fakeKafka((_values, producerIndex) =>
      producerIndex === 0 ? brokerError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45) : undefined,
    );
    const { hub, recreated } = recordingHub();
    const producer = new MessageProducer(kafka, silentLogger, {}, hub);

    await Promise.all(['a', 'b'].map((value) => producer.publishRaw('t', { key: value, value })));

    expect(producers).toHaveLength(2);
    expect(producers[0]?.disconnected).toBe(true);
    expect(producers[1]?.batches).toEqual([['a', 'b']]);
    expect(recreated).toEqual(['OUT_OF_ORDER_SEQUENCE_NUMBER']);
    await producer.disconnect();
  });

  it('never reuses a producer whose request failed, whatever the error', async () => {
    let failures = 1;
    const { kafka, producers } = fakeKafka(() =>
      failures-- > 0 ? new KafkaJSNonRetriableError('Connection timeout') : undefined,
    );
    const { hub, recreated } = recordingHub();
    const producer = new MessageProducer(kafka, silentLogger, {}, hub);

    await expect(producer.publishRaw('t', { key: null, value: 'first' })).rejects.toThrow(
      'Connection timeout',
    );
    await producer.publishRaw('t', { key: null, value: 'second' });

    expect(recreated).toEqual(['KafkaJSNonRetriableError']);
    expect(producers[0]?.batches).toEqual([['first']]);
    expect(producers[1]?.batches).toEqual([['second']]);
  });

  it('splits a batch the broker refuses as too large until only the record at fault fails', async () => {
    const { kafka } = fakeKafka((values) =>
      values.includes('huge') ? brokerError('MESSAGE_TOO_LARGE', 10) : undefined,
    );
    const { hub, refused } = recordingHub();
    const producer = new MessageProducer(kafka, silentLogger, {}, hub);
    const values = ['a', 'b', 'huge', 'c', 'd'];

    const results = await Promise.allSettled(
      values.map((value) => producer.publishRaw('t', { key: null, value })),
    );

    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(RecordTooLargeError);
    expect(refused).toEqual(['t:too-large']);
  });

  it('keeps every request under its byte limit, counting UTF-8 bytes rather than characters', async () => {
    const { kafka, producers } = fakeKafka(() => undefined);
    const producer = new MessageProducer(
      kafka,
      silentLogger,
      { maxBatchBytes: 10_000 },
      new InstrumentationHub(),
    );
    // 1 000 characters, 3 000 bytes each.
    const value = '漢'.repeat(1_000);

    await Promise.all(Array.from({ length: 10 }, () => producer.publishRaw('t', { key: null, value })));

    const sizes = (producers[0]?.batches ?? []).map((batch) =>
      batch.reduce((sum, v) => sum + encodedRecordBytes({ key: null, value: v }), 61),
    );
    expect(sizes.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10_000);
    expect((producers[0]?.batches ?? []).flat()).toHaveLength(10);
  });

  it('refuses a record larger than the limit before sending it, and only that record', async () => {
    const { kafka, producers } = fakeKafka(() => undefined);
    const { hub, refused } = recordingHub();
    const producer = new MessageProducer(kafka, silentLogger, { maxBatchBytes: 10_000 }, hub);

    const results = await Promise.allSettled([
      producer.publishRaw('t', { key: null, value: 'small' }),
      producer.publishRaw('t', { key: null, value: 'x'.repeat(10_000) }),
    ]);

    expect(results[0]?.status).toBe('fulfilled');
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RecordTooLargeError);
    expect(producers[0]?.batches).toEqual([['small']]);
    expect(refused).toEqual(['t:too-large']);
  });
});
