import { randomUUID } from 'node:crypto';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
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

  it('with a window, has handed over every record acknowledged longer ago than the window when it resolves', async () => {
    const { follower, seen, definition } = await follow();
    await follower.start();
    const windowMs = 300;
    const checking = { on: true };
    // Steady checks meanwhile, as email-sender makes them: they keep the follower refreshing in the background.
    const steady = (async () => {
      while (checking.on) await follower.caughtUpWithin(windowMs).then(() => setImmediatePromise());
    })();
    try {
      for (let index = 0; index < 8; index += 1) {
        const record = halt();
        await writer.producer.publish(definition, record);
        // The writer's side of the protocol (orders' halt answer): the window passes after the acknowledgement.
        await new Promise((resolve) => setTimeout(resolve, windowMs));
        await follower.caughtUpWithin(windowMs);
        expect(seen.has(record.orderId)).toBe(true);
      }
    } finally {
      checking.on = false;
      await steady;
    }
  });

  it('with a window, answers steady checks from memory: about two ListOffsets requests per window', async () => {
    const { follower } = await follow();
    await follower.start();
    await follower.caughtUp();
    const windowMs = 400;
    const before = follower.offsetRequests;
    const started = performance.now();
    let checks = 0;
    while (performance.now() - started < 2_000) {
      await follower.caughtUpWithin(windowMs);
      checks += 1;
      await setImmediatePromise();
    }
    const requests = follower.offsetRequests - before;
    expect(checks).toBeGreaterThan(1_000);
    // A refresh starts from half the window on: at most one per half window, plus the one under way.
    expect(requests).toBeLessThanOrEqual(Math.ceil(2_000 / (windowMs / 2)) + 1);
    expect(requests).toBeGreaterThan(0);
  });

  it('with a window, still fails closed: a stopped follower never answers from memory', async () => {
    const { follower } = await follow();
    await follower.start();
    await follower.caughtUpWithin(60_000);
    await follower.stop();
    await expect(follower.caughtUpWithin(60_000)).rejects.toBeInstanceOf(InfrastructureUnavailableError);
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
