import { HealthCheckContract } from '@notifications/contracts';
import {
  DeadLetterService,
  handlerFor,
  KafkaRuntime,
  PermanentError,
  replayGroupId,
  silentLogger,
  type DeadLetterMessage,
  type MessageContext,
  type ReplayReport,
} from '@notifications/messaging';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import { type Admin } from 'kafkajs';
import { opsEnv, testAdmin } from './support/kafka-env';
import { runOps, runOpsJson } from './support/run-ops';

interface Handled {
  readonly value: string;
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly attempt: number;
}

/**
 * The whole loop against the real broker and the real messaging runtime: a handler fails permanently the first
 * time it sees a message (so the runtime dead-letters it), the CLI replays it, the handler succeeds. Each test has
 * a topic (and so a dead-letter topic and replay record) of its own, so the tests hold in any order.
 */
describe(`${DeadLetterService.name} replay`, () => {
  const kafka = new KafkaTestEnvironment('ops-replay');
  const env = opsEnv();
  let runtime: KafkaRuntime;
  let admin: Admin;

  beforeAll(async () => {
    admin = await testAdmin();
    runtime = new KafkaRuntime(
      { brokers: kafka.connection.brokers, clientId: 'test-ops-replay' },
      silentLogger,
    );
  });

  afterAll(async () => {
    await runtime?.shutdown();
    await admin?.disconnect();
    await kafka.cleanup();
  });

  /** A new topic whose consumer dead-letters each message the first time it sees it, and the CLI around it. */
  async function deadLetteringTopic(label: string) {
    const topic = kafka.defineTopic(label, HealthCheckContract, (value) => value.split(':')[0]);
    await kafka.createTopics(topic, 2);
    const seen = new Set<string>();
    const handled: Handled[] = [];
    const consumer = runtime.createConsumer(
      { groupId: kafka.uniqueName('group'), sessionTimeoutMs: 10_000, shutdownTimeoutMs: 2_000 },
      [
        handlerFor({
          topic,
          handle: async (value: string, context: MessageContext) => {
            if (!seen.has(value)) {
              seen.add(value);
              throw new PermanentError(`first sight of ${value} fails`);
            }
            handled.push({ value, key: context.key, headers: context.headers, attempt: context.attempt });
          },
        }),
      ],
    );
    await consumer.start();
    const dlq = topic.deadLetterTopic;
    return {
      topic,
      dlq,
      handled,
      replay: (...args: string[]): Promise<ReplayReport> =>
        runOpsJson<ReplayReport>(['dlq', 'replay', dlq, ...args], env),
      originCount: (): Promise<number> => kafka.messageCount(topic.name),
    };
  }

  it('shows a dead-lettered message, replays it to its origin once, and the handler then succeeds', async () => {
    const { topic, dlq, handled, replay, originCount } = await deadLetteringTopic('shown');
    await kafka.produceRaw(topic.name, [
      { key: 'a', value: 'a:1', headers: { traceparent: '00-abc-def-01' } },
    ]);
    await expectEventually(async () => expect(await kafka.messageCount(dlq)).toBe(1));

    const shown = await runOpsJson<{ messages: DeadLetterMessage[] }>(['dlq', 'show', dlq], env);
    expect(shown.messages).toHaveLength(1);
    expect(shown.messages[0]).toMatchObject({
      key: 'a',
      originTopic: topic.name,
      originOffset: '0',
      reason: 'permanent-failure',
      errorClass: 'PermanentError',
      error: 'first sight of a:1 fails',
      attempts: 1,
      valuePreview: 'a:1',
    });

    const dryRun = await replay('--dry-run');
    expect(dryRun.counts).toMatchObject({ 'would-replay': 1, replayed: 0 });
    expect(await originCount()).toBe(1);

    const first = await replay();
    expect(first.counts).toMatchObject({ replayed: 1, 'already-replayed': 0 });
    await expectEventually(() => expect(handled.map((h) => h.value)).toEqual(['a:1']));
    const [success] = handled;
    expect(success!.key).toBe('a');
    expect(success!.attempt).toBe(1);
    // Its own headers are kept; the runtime's dead-letter headers are not.
    expect(success!.headers['traceparent']).toBe('00-abc-def-01');
    expect(success!.headers['x-replayed-from']).toMatch(new RegExp(`^${dlq.replace(/\./g, '\\.')}/\\d/0$`));
    expect(
      Object.keys(success!.headers).filter((name) => name.startsWith('x-') && name !== 'x-replayed-from'),
    ).toEqual([]);

    // Nothing beyond the record: the second run reads nothing and replays nothing.
    const second = await replay();
    expect(second.messages).toEqual([]);
    expect(second.counts).toMatchObject({ replayed: 0 });
    // The origin holds the original and exactly one replay.
    expect(await originCount()).toBe(2);
  });

  it('replays a filtered selection, and a later full replay only what is left', async () => {
    const { topic, dlq, handled, replay, originCount } = await deadLetteringTopic('filtered');
    await kafka.produceRaw(topic.name, [
      { key: 'b', value: 'b:1' },
      { key: 'c', value: 'c:1' },
    ]);
    await expectEventually(async () => expect(await kafka.messageCount(dlq)).toBe(2));
    const before = await originCount();

    const onlyC = await replay('--filter', 'key=c');
    expect(onlyC.counts).toMatchObject({ replayed: 1, 'filtered-out': 1, 'already-replayed': 0 });
    expect(onlyC.messages.find((m) => m.outcome === 'replayed')?.key).toBe('c');
    await expectEventually(() => expect(handled.map((h) => h.value)).toContain('c:1'));

    const rest = await replay();
    expect(rest.counts).toMatchObject({ replayed: 1, 'already-replayed': 1 });
    expect(rest.messages.find((m) => m.outcome === 'replayed')?.key).toBe('b');
    await expectEventually(() => expect(handled.map((h) => h.value).sort()).toEqual(['b:1', 'c:1']));

    expect((await replay()).messages).toEqual([]);
    expect(await originCount()).toBe(before + 2);

    // Everything replayed: the record is the replay group's committed offsets, at the end of every partition.
    const [committed] = await admin.fetchOffsets({ groupId: replayGroupId(dlq), topics: [dlq] });
    const ends = await admin.fetchTopicOffsets(dlq);
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
      ends.map((p) => [p.partition, p.high]).sort(),
    );
  });

  it('replays again from the beginning only when asked, and selects by error text and offset', async () => {
    const { topic, dlq, replay } = await deadLetteringTopic('again');
    await kafka.produceRaw(topic.name, [
      { key: 'a', value: 'a:1' },
      { key: 'b', value: 'b:1' },
      { key: 'c', value: 'c:1' },
    ]);
    await expectEventually(async () => expect(await kafka.messageCount(dlq)).toBe(3));
    expect((await replay()).counts).toMatchObject({ replayed: 3 });
    // Everything was replayed once: without --from-beginning nothing is read again.
    expect((await replay()).messages).toEqual([]);

    const errorMatch = await replay('--from-beginning', '--error-contains', 'SIGHT OF B', '--dry-run');
    expect(errorMatch.counts).toMatchObject({ 'would-replay': 1, 'filtered-out': 2 });

    const shown = await runOpsJson<{ messages: DeadLetterMessage[] }>(
      ['dlq', 'show', dlq, '--limit', '10'],
      env,
    );
    const c = shown.messages.find((m) => m.key === 'c')!;
    const exact = await replay(
      '--partition',
      String(c.partition),
      '--offset',
      String(c.offset),
      '--from-beginning',
    );
    expect(exact.counts).toMatchObject({ replayed: 1 });
    expect(exact.messages).toEqual([expect.objectContaining({ key: 'c', outcome: 'replayed' })]);

    const ambiguous = await runOps(['dlq', 'replay', dlq, '--offset', '0'], env);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/--offset needs --partition/);
  });

  it('purges only with --yes', async () => {
    const { topic, dlq, replay } = await deadLetteringTopic('purged');
    await kafka.produceRaw(topic.name, [
      { key: 'a', value: 'a:1' },
      { key: 'b', value: 'b:1' },
      { key: 'c', value: 'c:1' },
    ]);
    await expectEventually(async () => expect(await kafka.messageCount(dlq)).toBe(3));
    const count = await kafka.messageCount(dlq);
    expect(count).toBe(3);
    const refused = await runOps(['dlq', 'purge', dlq, '--all'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/Would delete 3 record/);
    expect(refused.stderr).toMatch(/add --yes/);
    expect(await kafka.messageCount(dlq)).toBe(3);

    const usage = await runOps(['dlq', 'purge', dlq, '--all', '--before', '1', '--yes'], env);
    expect(usage.code).toBe(2);

    const purged = await runOpsJson<{ records: number; purged: boolean }>(
      ['dlq', 'purge', dlq, '--all', '--yes'],
      env,
    );
    expect(purged).toMatchObject({ records: 3, purged: true });
    expect(await kafka.messageCount(dlq)).toBe(0);
    expect((await replay()).counts).toMatchObject({ replayed: 0, 'already-replayed': 0 });
  });
});
