import { runBuiltOps, runOps } from './support/run-ops';

describe('ops command line', () => {
  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['dlq', 'shwo', 'x'], /unknown command 'shwo'/],
    [['dlq', 'show'], /missing required argument 'topic'/],
    [['dlq', 'show', 't', '--limit', 'ten'], /--limit <n>.*expected a whole number/],
    [['dlq', 'replay', 't', '--filter', 'colour=red'], /--filter "colour=red": expected key=/],
    [['outbox', 'redrive', '--older-than', 'soon'], /--older-than <duration>.*expected a duration/],
    [['lag', '--verbose'], /unknown option '--verbose'/],
    [['rate-limit', 'show', '--app', 'poller'], /--app: expected orders or email-sender/],
    [['orders', 'halt'], /missing required argument 'id'/],
    [['orders', 'show', 'not-an-id'], /'not-an-id' is invalid for argument 'id'\. expected an order id/],
    [['orders', 'list', '--limit', '0'], /--limit <n>.*expected a whole number ≥ 1/],
    [['dlq'], /Usage: ops dlq/],
    [[], /Usage: ops/],
  ])('rejects %j with a clear message and exit code 2', async (argv, message) => {
    const run = await runOps(argv, { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('reports bad settings as one error listing every bad variable', async () => {
    const run = await runOps(['lag'], { KAFKA_BROKERS: 'not a broker', ORDERS_MANAGEMENT_URL: 'ftp://x' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/KAFKA_BROKERS/);
    expect(run.stderr).toMatch(/ORDERS_MANAGEMENT_URL/);
  });

  it('requires OPS_TOKEN in production (no development key there)', async () => {
    // Kafka settings that production accepts, so that the missing token is the one problem.
    const run = await runOps(['outbox', 'show'], {
      APP_ENV: 'production',
      KAFKA_SSL: 'true',
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/OPS_TOKEN is required/);
  });

  it('prints help for every command with exit code 0', async () => {
    const run = await runOps(['dlq', 'replay', '--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--from-beginning/);
    expect(run.stdout).toMatch(/--dry-run/);
  });

  it('fails with a clear message when an app is not reachable', async () => {
    const run = await runOps(['outbox', 'show'], {
      ORDERS_MANAGEMENT_URL: 'http://127.0.0.1:1',
      OPS_TOKEN: 'unused: nothing answers',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: orders is not reachable at http:\/\/127\.0\.0\.1:1\/notifications\/api\/v1\/internal\/outbox/,
    );
  });

  it('runs as shipped (node apps/ops/dist/main.js) with exit codes and JSON output', async () => {
    const unknown = await runBuiltOps(['nope'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'nope'/);
    expect(unknown.stderr).not.toMatch(/Warning/);

    const unreachable = await runBuiltOps(['rate-limit', 'show', '--json'], {
      ORDERS_MANAGEMENT_URL: 'http://127.0.0.1:1',
      EMAIL_SENDER_MANAGEMENT_URL: 'http://127.0.0.1:1',
      OPS_TOKEN: 'unused: nothing answers',
    });
    expect(unreachable.code).toBe(1);
    const parsed = JSON.parse(unreachable.stdout) as { apps: { app: string; ok: boolean }[] };
    expect(parsed.apps.map((app) => [app.app, app.ok])).toEqual([
      ['orders', false],
      ['email-sender', false],
    ]);
  });
});
