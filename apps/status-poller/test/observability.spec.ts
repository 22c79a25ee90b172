import { randomUUID } from 'node:crypto';
import {
  parsePrometheusText,
  sampleValue,
  type MetricSample,
  type ServiceStatus,
} from '@notifications/observability';
import { type AcsEmulatorProcess, expectEventually, OperatorTestAuth } from '@notifications/testing';
import { sendEmail, startEmulator } from './support/acs-emulator';
import { TestKafka } from './support/kafka';
import { acceptedRecord, resultsOf } from './support/messages';
import { operatorAuth, StatusPollerApp, TEST_SCHEDULE_ENV, uniqueSuffix } from './support/status-poller-app';

describe('status-poller /metrics and /status', () => {
  let emulator: AcsEmulatorProcess;
  let kafka: TestKafka;
  let poller: StatusPollerApp;
  const suffix = uniqueSuffix('obs');

  beforeAll(async () => {
    emulator = await startEmulator();
    kafka = new TestKafka();
    poller = await StatusPollerApp.start(
      {
        ...TEST_SCHEDULE_ENV,
        KAFKA_TOPIC_SUFFIX: suffix,
        ACS_CONNECTION_STRING: emulator.connectionString(),
      },
      kafka,
    );
  });

  afterAll(async () => {
    await poller?.close();
    await kafka?.deleteTopics(suffix);
    await kafka?.close();
    await emulator?.stop();
  });

  async function metrics(): Promise<MetricSample[]> {
    const response = await fetch(`${poller.managementUrl}/metrics`);
    expect(response.status).toBe(200);
    return parsePrometheusText(await response.text());
  }

  it('serves /stats, /metrics and /status on the management listener only; /stats to operator tokens only', async () => {
    expect(new URL(poller.managementUrl).hostname).toBe('127.0.0.1');
    for (const path of ['/stats', '/metrics', '/status']) {
      const publicly = await fetch(`${poller.url}${path}`, { headers: operatorAuth.headers() });
      expect({ path, status: publicly.status }).toEqual({ path, status: 404 });
    }
    const stats = (headers: Record<string, string> = {}) =>
      fetch(`${poller.managementUrl}/stats`, { headers });
    expect((await stats()).status).toBe(401);
    expect((await stats(new OperatorTestAuth().headers())).status).toBe(401);
    expect((await stats(operatorAuth.headers(['some.other.scope']))).status).toBe(403);
    const allowed = await stats(operatorAuth.headers());
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ polling: expect.any(Object) });
    // The webhook and the probes stay on the public listener.
    expect((await fetch(`${poller.url}/health/live`)).status).toBe(200);
  });

  it('counts consumed, produced and dead-lettered messages per topic and reports them in $status', async () => {
    const { topics } = poller;
    const records = await kafka.read([topics.emailStatusUpdated.name], suffix);
    const id = randomUUID();
    await sendEmail(emulator, id, `${id}@example.com`);
    await kafka.publish(topics.emailSendingAccepted.name, [
      acceptedRecord(id, Date.now()),
      { key: 'broken', value: 'not json', headers: {} },
    ]);

    await expectEventually(
      () =>
        expect(
          resultsOf(records, topics.emailStatusUpdated.name).filter((r) => r.notificationId === id),
        ).toHaveLength(1),
      { timeoutMs: 20_000 },
    );

    const accepted = topics.emailSendingAccepted.name;
    const samples = await expectEventually(async () => {
      const current = await metrics();
      expect(
        sampleValue(current, 'notifications_messages_produced_total', {
          topic: topics.emailStatusUpdated.name,
        }),
      ).toBe(1);
      return current;
    });
    expect(
      sampleValue(samples, 'notifications_messages_consumed_total', { topic: accepted }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sampleValue(samples, 'notifications_messages_dead_lettered_total', {
        topic: accepted,
        reason: 'invalid-message',
        service: 'status-poller',
      }),
    ).toBe(1);
    expect(
      samples.some((s) => s.name === 'notifications_consumer_lag' && s.labels['topic'] === accepted),
    ).toBe(true);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);

    const response = await fetch(`${poller.managementUrl}/status`);
    const status = (await response.json()) as ServiceStatus;
    expect(status).toMatchObject({ service: 'status-poller', deadLettered: 1, lost: 0 });
    expect(status.delivered).toBeGreaterThanOrEqual(1);
    expect(status.recentErrors).toEqual([
      expect.objectContaining({
        topic: accepted,
        error: expect.stringContaining('invalid-message') as unknown,
      }),
    ]);
  });
});
