import { randomUUID } from 'node:crypto';
import { type AcsEmulatorProcess, expectEventually } from '@notifications/testing';
import { sendEmails, startEmulator } from './support/acs-emulator';
import { startNode, type RunningChild } from './support/child-process';
import { TestKafka } from './support/kafka';
import { acceptedRecord, resultsOf } from './support/messages';
import {
  operatorAuth,
  pollerTopicNames,
  TEST_SCHEDULE_ENV,
  topicsFor,
  uniqueSuffix,
} from './support/status-poller-app';

interface ChildStats {
  polling: { checks: number; held: number; waits: Record<string, number>; results: Record<string, number> };
  consumer: { state: string };
}

async function statsOf(url: string): Promise<ChildStats> {
  const response = await fetch(`${url}/stats`, { headers: operatorAuth.headers() });
  return (await response.json()) as ChildStats;
}

/**
 * The poller as its own process (`node apps/status-poller/dist/main.js`), killed with SIGKILL while operations
 * wait — in its delay topics, or held in the accepted topic's batch until due — and checks are in flight, then
 * started again.
 */
describe('status-poller process crash (real broker, ACS emulator)', () => {
  const suffixes: string[] = [];
  let emulator: AcsEmulatorProcess;
  let kafka: TestKafka;
  const children: RunningChild[] = [];

  beforeAll(async () => {
    emulator = await startEmulator();
    kafka = new TestKafka();
  });

  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop('SIGKILL')));
    await emulator.stop();
    for (const suffix of suffixes) await kafka.deleteTopics(suffix);
    await kafka.close();
  });

  /** Starts the poller; `url` is its management listener (`/stats`). */
  async function startPoller(env: Record<string, string>): Promise<{ child: RunningChild; url: string }> {
    const child = startNode('apps/status-poller/dist/main.js', {
      ...env,
      ...operatorAuth.env,
      PORT: '0',
      HOST: '127.0.0.1',
    });
    children.push(child);
    const url = await child.waitForLine(/status-poller management on (http:\/\/\S+)/, 30_000);
    await expectEventually(async () => expect((await statsOf(url)).consumer.state).toBe('running'));
    return { child, url };
  }

  const cases: {
    readonly name: string;
    readonly env: Record<string, string>;
    /** True once the operations are waiting the way this case kills them in. */
    readonly waiting: (polling: ChildStats['polling'], operations: number) => boolean;
  }[] = [
    {
      name: 'in the 2 s delay tier',
      // No batch hold: the re-check due in 2 s goes through the delay tier.
      env: { STATUS_CHECK_BATCH_HOLD_MS: '0' },
      waiting: (polling) => (polling.waits['2s'] ?? 0) > 0,
    },
    {
      name: 'held in a batch of the accepted topic, its offsets not yet committed',
      env: {},
      // Each first check was held; more held than operations = re-checks held for their 2 s interval.
      waiting: (polling, operations) => polling.held > operations,
    },
  ];

  it.each(cases)(
    'loses no operation when killed mid-wait $name: every result still arrives (at least once)',
    async ({ name, env: caseEnv, waiting }) => {
      const suffix = uniqueSuffix('crash');
      suffixes.push(suffix);
      const env = {
        ...TEST_SCHEDULE_ENV,
        ...caseEnv,
        KAFKA_TOPIC_SUFFIX: suffix,
        ACS_CONNECTION_STRING: emulator.connectionString(),
        // The killed member's partitions are handed to the new process once its session has expired.
        KAFKA_SESSION_TIMEOUT_MS: '6s',
        LOG_LEVEL: 'warn',
      };
      const topics = topicsFor(env);
      const domain = `crash-${suffix}.test`;
      await emulator.addRules([{ match: `*@${domain}`, behaviour: { type: 'succeed', delayMs: 4_000 } }]);
      const ids = Array.from({ length: 40 }, () => randomUUID());
      await sendEmails(
        emulator,
        ids.map((id) => ({ id, to: `${id}@${domain}` })),
      );

      await kafka.prepareTopics(pollerTopicNames(topics), 2);
      const first = await startPoller(env);
      const records = await kafka.read([topics.emailStatusUpdated.name], suffix);
      await kafka.publish(
        topics.emailSendingAccepted.name,
        ids.map((id) => acceptedRecord(id, Date.now())),
      );

      // First checks done (+1 s: still running) and the operations waiting in the 2 s delay tier: kill -9.
      await expectEventually(async () => {
        const { polling } = await statsOf(first.url);
        expect(polling.checks).toBeGreaterThanOrEqual(ids.length);
        expect(waiting(polling, ids.length)).toBe(true);
      });
      await first.child.stop('SIGKILL');
      const resultsBeforeCrash = resultsOf(records, topics.emailStatusUpdated.name).length;
      expect(resultsBeforeCrash).toBeLessThan(ids.length);

      await startPoller(env);
      await expectEventually(
        () => {
          const results = resultsOf(records, topics.emailStatusUpdated.name);
          expect(new Set(results.map((r) => r.notificationId))).toEqual(new Set(ids));
        },
        { timeoutMs: 45_000 },
      );
      const results = resultsOf(records, topics.emailStatusUpdated.name);
      // At-least-once: a check whose outcome was published but not yet committed when the process died is done
      // again, so a result may be published twice — always the same final result, which orders applies idempotently.
      expect(results.every((r) => r.sendResult === 'Succeeded' && r.operationId === r.notificationId)).toBe(
        true,
      );
      console.log(
        `Crash test (${name}): ${ids.length} operations, ${results.length} results (${results.length - ids.length} duplicates), ` +
          `${resultsBeforeCrash} before the kill`,
      );
    },
  );
});
