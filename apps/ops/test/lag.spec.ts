import { HealthCheckContract } from '@notifications/contracts';
import { ConsumerLagService, type GroupLag } from '@notifications/messaging';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import { type Admin } from 'kafkajs';
import { opsEnv, testAdmin } from './support/kafka-env';
import { runOps, runOpsJson } from './support/run-ops';

describe(ConsumerLagService.name, () => {
  const kafka = new KafkaTestEnvironment('ops-lag');
  const topic = kafka.defineTopic('lagging', HealthCheckContract, () => undefined);
  const groupId = kafka.uniqueName('group');
  const env = opsEnv();
  let admin: Admin;

  beforeAll(async () => {
    await kafka.createTopics(topic, 2);
    admin = await testAdmin();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await kafka.cleanup();
  });

  it('reports the lag of a group per partition, with totals', async () => {
    await kafka.produceRaw(
      topic.name,
      [0, 1, 2, 3, 4].map((i) => ({ key: 'same', value: `m${i}` })),
    );
    const offsets = await admin.fetchTopicOffsets(topic.name);
    const busy = offsets.find((p) => Number(p.high) === 5)!;
    // The group has read 2 of the 5 records on the busy partition and nothing of the other.
    await admin.setOffsets({
      groupId,
      topic: topic.name,
      partitions: [{ partition: busy.partition, offset: '2' }],
    });

    const result = await runOpsJson<{ groups: GroupLag[]; totalLag: number }>(
      ['lag', '--group', groupId],
      env,
    );
    expect(result.totalLag).toBe(3);
    const [group] = result.groups;
    expect(group).toMatchObject({ group: groupId, state: 'Empty', members: 0, totalLag: 3 });
    expect(group!.partitions).toEqual(
      expect.arrayContaining([
        { group: groupId, topic: topic.name, partition: busy.partition, committed: 2, high: 5, lag: 3 },
        {
          group: groupId,
          topic: topic.name,
          partition: 1 - busy.partition,
          committed: null,
          high: 0,
          lag: 0,
        },
      ]),
    );

    const table = await runOps(['lag', '--group', groupId], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Total lag: 3/);
  });

  it('reports a group without committed offsets', async () => {
    const result = await runOpsJson<{ groups: GroupLag[] }>(
      ['lag', '--group', kafka.uniqueName('none')],
      env,
    );
    expect(result.groups[0]).toMatchObject({ partitions: [], totalLag: 0 });
  });
});
