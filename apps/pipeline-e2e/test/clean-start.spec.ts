import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  expectEventually,
  startIsolatedBroker,
  stopIsolatedBroker,
  type IsolatedBroker,
} from '@notifications/testing';
import { Pipeline } from './support/pipeline';

// A newcomer's first `npm start` meets a broker that has never seen a topic or a consumer group: every app creates
// its topics and joins its groups while the broker elects leaders and creates __consumer_offsets. The broker's
// answers meanwhile (unknown topic, not the leader, coordinator not available) are retried by kafkajs and are no
// failure, so a healthy first start must log no error line (issue 15). Its own broker, because the shared one
// already has the internal topics and would hide half of those answers.

/** The error-level lines of every app's JSON log, as `<app>: <line>`. */
function errorLines(logDir: string): string[] {
  return readdirSync(logDir).flatMap((file) =>
    readFileSync(join(logDir, file), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"level":"error"'))
      .map((line) => `${file}: ${line}`),
  );
}

describe('a first start on a fresh broker', () => {
  let broker: IsolatedBroker | undefined;
  let pipeline: Pipeline | undefined;

  afterAll(async () => {
    await pipeline?.stop();
    await stopIsolatedBroker(broker);
  });

  it('logs no error line from start to the first order Completed', async () => {
    broker = await startIsolatedBroker('clean-start');
    pipeline = await Pipeline.start({ label: 'clean-start', kafkaBrokers: broker.brokers });
    const started = pipeline;

    const orderId = await started.orders.postEmailOrder({
      recipients: [{ emailAddress: 'ola@example.com' }],
    });
    await expectEventually(
      async () => expect(await started.orders.processingStatus(orderId)).toBe('Completed'),
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );

    expect(errorLines(started.logDir)).toEqual([]);
    expect(started.unexpectedExits).toEqual([]);
  });
});
