import { randomUUID } from 'node:crypto';
import { OrderHaltedContract, type OrderHalted, type TopicDefinition } from '@notifications/contracts';
import { KafkaTestEnvironment, testKafkaConnection } from '../src/testing';
import { InfrastructureUnavailableError, KafkaRuntime, silentLogger, type TopicFollower } from '../src';

const halt = (): OrderHalted => ({ orderId: randomUUID(), haltedAt: new Date().toISOString() });

describe('TopicFollower against a real broker', () => {
  let env: KafkaTestEnvironment;
  let writer: KafkaRuntime;
  let reader: KafkaRuntime;

  beforeEach(() => {
    env = new KafkaTestEnvironment('follower');
    // Writer and reader are separate runtimes (separate connections), as orders and email-sender are.
    writer = new KafkaRuntime(env.connection, silentLogger);
    reader = new KafkaRuntime(testKafkaConnection('follower-reader'), silentLogger);
  });

  afterEach(async () => {
    await reader.shutdown();
    await writer.shutdown();
    await env.cleanup();
  });

  async function follow(): Promise<{
    follower: TopicFollower<OrderHalted>;
    seen: Set<string>;
    topic: string;
    definition: TopicDefinition<OrderHalted>;
  }> {
    const topic = env.defineTopic('halted', OrderHaltedContract, (record: OrderHalted) => record.orderId);
    await env.createTopics(topic, 3);
    const seen = new Set<string>();
    const follower = reader.createTopicFollower({
      topic,
      groupIdPrefix: env.uniqueName('follower'),
      onMessage: (record) => seen.add(record.orderId),
    });
    return { follower, seen, topic: topic.name, definition: topic };
  }

  it('has handed over every record acknowledged before caughtUp() was called when it resolves', async () => {
    const { follower, seen, definition } = await follow();
    await follower.start();
    for (let index = 0; index < 60; index += 1) {
      const record = halt();
      await writer.producer.publish(definition, record);
      // Acknowledged (acks=all) before the call: it must be known when the call resolves — no polling.
      await follower.caughtUp();
      expect(seen.has(record.orderId)).toBe(true);
    }
  });

  it('reads what was published before it started, and an empty partition counts as read', async () => {
    const { follower, seen, topic } = await follow();
    const earlier = [halt(), halt()];
    await env.produceRaw(
      topic,
      earlier.map((record) => ({ key: record.orderId, value: OrderHaltedContract.serialize(record) })),
    );
    await follower.start();
    await follower.caughtUp();
    expect([...seen].sort()).toEqual(earlier.map((record) => record.orderId).sort());
  });

  it('skips a record that is not valid and goes on', async () => {
    const { follower, seen, topic } = await follow();
    const valid = halt();
    await env.produceRaw(topic, [
      { key: 'x', value: '{"orderId":"not-a-uuid"}' },
      { key: valid.orderId, value: OrderHaltedContract.serialize(valid) },
    ]);
    await follower.start();
    await follower.caughtUp();
    expect([...seen]).toEqual([valid.orderId]);
  });

  it('serves concurrent callers with shared ListOffsets requests: one in flight at a time', async () => {
    const { follower } = await follow();
    await follower.start();
    await follower.caughtUp();
    const before = follower.offsetRequests;
    await Promise.all(Array.from({ length: 500 }, () => follower.caughtUp()));
    // The first request serves the callers that came before it started; one more serves all the others.
    expect(follower.offsetRequests - before).toBeLessThanOrEqual(2);
  });

  it('fails closed: a follower that is not running never claims to be caught up', async () => {
    const { follower } = await follow();
    await expect(follower.caughtUp()).rejects.toBeInstanceOf(InfrastructureUnavailableError);
    await follower.start();
    await follower.caughtUp();
    await follower.stop();
    await expect(follower.caughtUp()).rejects.toBeInstanceOf(InfrastructureUnavailableError);
  });

  it('costs about one broker round trip per check (measured)', async () => {
    const { follower } = await follow();
    await follower.start();
    await follower.caughtUp();
    const sequential: number[] = [];
    for (let index = 0; index < 200; index += 1) {
      const started = performance.now();
      await follower.caughtUp();
      sequential.push(performance.now() - started);
    }
    sequential.sort((a, b) => a - b);
    const p50 = sequential[100] ?? 0;
    const p99 = sequential[198] ?? 0;
    const requestsBefore = follower.offsetRequests;
    const started = performance.now();
    await Promise.all(Array.from({ length: 2_000 }, () => follower.caughtUp()));
    const burstMs = performance.now() - started;
    console.log(
      `TopicFollower.caughtUp(): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms sequential; ` +
        `2 000 concurrent checks in ${burstMs.toFixed(1)} ms with ${follower.offsetRequests - requestsBefore} ListOffsets request(s)`,
    );
    expect(p50).toBeLessThan(250);
  });
});
