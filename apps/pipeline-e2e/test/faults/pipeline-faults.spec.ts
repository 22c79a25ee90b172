import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  restartIsolatedBroker,
  restartIsolatedPostgres,
  startIsolatedBroker,
  startIsolatedPostgres,
  stopIsolatedBroker,
  stopIsolatedPostgres,
  type IsolatedBroker,
  type IsolatedPostgres,
} from '@notifications/testing';
import { Kafka, logLevel } from 'kafkajs';
import { fastPipelineEnv } from '../support/e2e-settings';
import { Pipeline, type AppName, type PipelineOptions } from '../support/pipeline';
import { formatFaultTable } from './fault-table';
import { runFaultCase, type FaultCase, type FaultResult } from './fault-run';

// `npm run test:faults`: while a run of a few thousand notifications is in flight, one fault per case; every case
// must end with every notification final, none lost, none sent twice, malformed messages dead-lettered and no
// process crashed except the one killed. Prints the table and writes bench/results/faults.json.

const NOTIFICATIONS = Number(process.env['FAULTS_NOTIFICATIONS'] ?? 3_000);
const DEADLINE_MS = Number(process.env['FAULTS_DEADLINE_MS'] ?? 240_000);
/** How long the "PostgreSQL down" case keeps the database away; 5 min in CI, shorter to try it locally. */
const POSTGRES_DOWN_MS = Number(process.env['FAULTS_POSTGRES_DOWN_MS'] ?? 300_000);
const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

function killAndRestart(app: AppName): FaultCase {
  return {
    name: `kill -9 ${app}, restart`,
    killed: [app],
    inject: async (pipeline) => {
      await pipeline.kill(app);
      await pipeline.startApp(app);
    },
  };
}

/** Garbage of three kinds — not JSON, JSON of the wrong shape, empty — to every topic an app consumes. */
async function publishMalformed(pipeline: Pipeline): Promise<number> {
  const kafka = new Kafka({
    clientId: `faults-${pipeline.suffix}`,
    brokers: pipeline.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    // Everything of this run except the dead-letter topics and the health-check topics, which nobody consumes.
    const consumed = (await admin.listTopics()).filter(
      (topic) =>
        topic.includes(`.${pipeline.suffix}`) &&
        !topic.includes('.deadletter') &&
        !topic.includes('health.check'),
    );
    const poison = ['{not json', '{"notificationId": 42, "unexpected": true}', ''];
    for (const topic of consumed) {
      await producer.send({
        topic,
        messages: poison.map((value, index) => ({ key: `poison-${index}`, value })),
      });
    }
    return consumed.length * poison.length;
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
}

/**
 * The broker and the database are crashed for real, so those cases run on a broker and a PostgreSQL of their own
 * (scripts/infra.mjs starts them from the same jars and binaries), never on the shared ones.
 */
interface Infrastructure {
  readonly options: Pick<PipelineOptions, 'kafkaBrokers' | 'databaseServerUrl'>;
  readonly stop: () => Promise<void>;
}

const sharedInfrastructure = async (): Promise<Infrastructure> => ({
  options: {},
  stop: async () => undefined,
});

interface CaseWithInfrastructure extends FaultCase {
  readonly infrastructure: () => Promise<Infrastructure>;
  /** How long the fault itself lasts: added to the run's deadline. */
  readonly downtimeMs?: number;
}

const duration = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

// The infrastructure of the case that is running (one case at a time).
let broker: IsolatedBroker | undefined;
let postgres: IsolatedPostgres | undefined;

const onSharedInfrastructure = (faultCase: FaultCase): CaseWithInfrastructure => ({
  ...faultCase,
  infrastructure: sharedInfrastructure,
});

const CASES: CaseWithInfrastructure[] = [
  onSharedInfrastructure({ name: 'none (baseline)', inject: async () => undefined }),
  onSharedInfrastructure(killAndRestart('orders')),
  onSharedInfrastructure(killAndRestart('email-sender')),
  onSharedInfrastructure(killAndRestart('status-poller')),
  {
    name: 'kill -9 Kafka broker, restart',
    infrastructure: async () => {
      broker = await startIsolatedBroker('faults');
      return { options: { kafkaBrokers: broker.brokers }, stop: () => stopIsolatedBroker(broker) };
    },
    inject: async () => {
      if (broker === undefined) throw new Error('no broker of its own');
      broker = await restartIsolatedBroker(broker);
    },
  },
  {
    name: 'kill -9 PostgreSQL, restart',
    infrastructure: async () => {
      postgres = await startIsolatedPostgres('faults');
      return { options: { databaseServerUrl: postgres.url }, stop: () => stopIsolatedPostgres(postgres) };
    },
    inject: async () => {
      if (postgres === undefined) throw new Error('no PostgreSQL of its own');
      postgres = await restartIsolatedPostgres(postgres);
    },
  },
  {
    // Status updates keep arriving meanwhile (emails are sent, reports come in): orders' consumer must pause on
    // them, not spend their attempts and dead-letter them.
    name: `PostgreSQL down ${duration(POSTGRES_DOWN_MS)}`,
    downtimeMs: POSTGRES_DOWN_MS,
    infrastructure: async () => {
      postgres = await startIsolatedPostgres('faults');
      return { options: { databaseServerUrl: postgres.url }, stop: () => stopIsolatedPostgres(postgres) };
    },
    inject: async () => {
      if (postgres === undefined) throw new Error('no PostgreSQL of its own');
      postgres = await restartIsolatedPostgres(postgres, { downMs: POSTGRES_DOWN_MS });
    },
  },
  onSharedInfrastructure({
    name: 'emulator slow and failing',
    inject: async (pipeline) => {
      // 300 sends answered 503 after half a second, then 1.5 s per send for ten seconds.
      await pipeline.emulator.addRules([
        {
          match: '*@faults.example.org',
          times: 300,
          behaviour: { type: 'serverError', status: 503, responseDelayMs: 500 },
        },
        {
          match: '*@faults.example.org',
          forMs: 10_000,
          behaviour: { type: 'succeed', responseDelayMs: 1_500 },
        },
      ]);
    },
  }),
  onSharedInfrastructure({
    name: 'malformed messages on every consumed topic',
    inject: async (pipeline) => ({ malformedPublished: await publishMalformed(pipeline) }),
  }),
];

describe('pipeline under faults', () => {
  const results: FaultResult[] = [];

  afterAll(() => {
    if (results.length === 0) return;
    process.stdout.write(`\n${formatFaultTable(results)}\n`);
    const dir = join(WORKSPACE_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'faults.json'),
      `${JSON.stringify({ finishedAt: new Date().toISOString(), notificationsPerCase: NOTIFICATIONS, results }, null, 2)}\n`,
    );
  });

  it.each(CASES.map((faultCase) => [faultCase.name, faultCase] as const))(
    '%s',
    async (_name, faultCase) => {
      const infrastructure = await faultCase.infrastructure();
      const pipeline = await Pipeline.start({
        label: 'faults',
        partitions: 6,
        env: fastPipelineEnv(),
        ...infrastructure.options,
      }).catch(async (error: unknown) => {
        await infrastructure.stop();
        throw error;
      });
      try {
        const result = await runFaultCase(pipeline, faultCase, {
          notifications: NOTIFICATIONS,
          deadlineMs: DEADLINE_MS + (faultCase.downtimeMs ?? 0),
        });
        results.push(result);

        expect(result.unexpectedExits).toEqual([]);
        expect({ lost: result.lost, duplicated: result.duplicated }).toEqual({ lost: 0, duplicated: 0 });
        expect(result.resultCounts).toEqual({ Delivered: NOTIFICATIONS });
        expect(result.deadLettered).toBe(result.malformedPublished);
      } finally {
        await pipeline.stop();
        await infrastructure.stop();
      }
    },
    600_000 + POSTGRES_DOWN_MS,
  );
});
