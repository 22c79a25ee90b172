import { expectEventually } from '@notifications/testing';
import { fastPipelineEnv } from './support/e2e-settings';
import { NotificationLedger } from './support/notification-ledger';
import { APP_NAMES, Pipeline, type AppName } from './support/pipeline';

// The production cap of every app's V8 heap (deploy/k8s/base/kustomization.yaml: NODE_OPTIONS
// --max-old-space-size=160). Past it V8 aborts the process, which the pipeline records as an unexpected exit.
const HEAP_CAP_MB = 160;
// The apps whose /metrics report their heap (prom-client's default metrics); the emulator has none.
const METERED_APPS: readonly AppName[] = ['orders', 'email-sender', 'status-poller'];

// The API's largest body: 100 000 characters of 2 and 3 UTF-8 bytes (≈ 250 kB), with the name placeholder.
const LARGE_BODY = `Hei $recipientName$! ${'жи漢字'.repeat(25_000)}`.slice(0, 100_000);
const LARGE_RECIPIENTS = 1_000;

/** The app's V8 heap in use now (`nodejs_heap_size_used_bytes`), or undefined while it does not answer. */
async function heapUsed(pipeline: Pipeline, app: AppName): Promise<number | undefined> {
  const response = await fetch(`${pipeline.managementUrl(app)}/metrics`).catch(() => undefined);
  if (response?.ok !== true) return undefined;
  const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(
    await response.text(),
  );
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

describe('a very large order through the whole pipeline, every app under its production heap cap', () => {
  let pipeline: Pipeline;
  let ledger: NotificationLedger;

  beforeAll(async () => {
    const heapCap = [`--max-old-space-size=${HEAP_CAP_MB}`];
    pipeline = await Pipeline.start({
      label: 'large-order',
      partitions: 6,
      // The production claim size (1 000 notifications), so only the byte bounds keep a claim small.
      env: fastPipelineEnv({ orders: { ORDERS_EMAIL_BATCH_SIZE: '1000' } }),
      nodeArgs: Object.fromEntries(APP_NAMES.map((app) => [app, heapCap])) as Record<AppName, string[]>,
    });
    ledger = new NotificationLedger(pipeline.query);
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** Samples every metered app's heap until stopped; returns the peak per app. */
  function sampleHeaps(): { stop(): Promise<Record<string, number>> } {
    const peaks: Record<string, number> = {};
    let running = true;
    const loop = (async () => {
      while (running) {
        for (const app of METERED_APPS) {
          const used = await heapUsed(pipeline, app);
          if (used !== undefined) peaks[app] = Math.max(peaks[app] ?? 0, used);
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
        return peaks;
      },
    };
  }

  it('delivers 1 000 emails of 100 000 non-Latin-1 characters with $recipientName$, and a small order posted meanwhile', async () => {
    const heaps = sampleHeaps();
    const large = await pipeline.orders.postEmailOrder({
      subject: 'Stor melding til $recipientName$',
      body: LARGE_BODY,
      recipients: Array.from({ length: LARGE_RECIPIENTS }, (_, i) => ({
        emailAddress: `large-${i}@example.org`,
      })),
    });
    // Posted once the large order is being worked on: it must not be stalled by it.
    await expectEventually(async () => expect(await ledger.countsByResult([large])).not.toEqual({}), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    const small = await pipeline.orders.postEmailOrder({
      recipients: [{ emailAddress: 'small@example.org' }],
    });

    // Generous: ≈ 250 MB of email bodies cross the broker, email-sender and the emulator on a shared 2-core machine.
    await expectEventually(
      async () => {
        expect(await ledger.countsByResult([small])).toEqual({ Delivered: 1 });
        expect(await ledger.countsByResult([large])).toEqual({ Delivered: LARGE_RECIPIENTS });
        expect(await pipeline.orders.processingStatus(small)).toBe('Completed');
        expect(await pipeline.orders.processingStatus(large)).toBe('Completed');
      },
      { timeoutMs: 2_400_000, intervalMs: 2_000 },
    );
    const peaks = await heaps.stop();
    console.log(
      `peak heap used (MB, cap ${HEAP_CAP_MB}): ${Object.entries(peaks)
        .map(([app, bytes]) => `${app} ${(bytes / 1024 / 1024).toFixed(0)}`)
        .join(', ')}`,
    );

    // No app ran out of heap (V8 aborts a process past --max-old-space-size) or exited otherwise.
    expect(pipeline.unexpectedExits).toEqual([]);
    expect(Object.keys(peaks).sort()).toEqual([...METERED_APPS].sort());
    for (const [app, bytes] of Object.entries(peaks)) {
      expect({ app, underHeapCap: bytes < HEAP_CAP_MB * 1024 * 1024 }).toEqual({ app, underHeapCap: true });
    }
    const perOperation = await pipeline.emulator.messagesPerOperation();
    const delivered = await ledger.rows([large, small]);
    expect(delivered.filter((n) => perOperation.get(n.id) !== 1)).toEqual([]);
  }, 2_700_000);
});
