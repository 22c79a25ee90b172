import { DataSource } from 'typeorm';
import { TcpProxy } from '../test/tcp-proxy';
import { createDataSourceOptions } from './data-source-options';
import { DatabaseReadinessCheck } from './database-readiness.check';
import { createTestDatabase, type TestDatabase } from './testing/test-database';

describe(DatabaseReadinessCheck.name, () => {
  let db: TestDatabase;
  let proxy: TcpProxy | undefined;
  let proxied: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'readiness' });
  });

  afterEach(async () => {
    // Cut the proxy first: a query hung on a blackholed connection would keep destroy() waiting.
    await proxy?.close();
    if (proxied?.isInitialized) await proxied.destroy();
    proxy = undefined;
    proxied = undefined;
  });

  afterAll(() => db.drop());

  /** A data source that reaches the test database through a proxy the test can break. */
  async function throughProxy(): Promise<DataSource> {
    proxy = await TcpProxy.start(5432);
    const url = new URL(db.url);
    url.port = String(proxy.port);
    proxied = await new DataSource(
      createDataSourceOptions({ url: url.toString(), connectTimeoutMs: 1_000 }),
    ).initialize();
    return proxied;
  }

  it('is named "database"', () => {
    expect(new DatabaseReadinessCheck(db.dataSource).name).toBe('database');
  });

  it('passes against a live database', async () => {
    await expect(new DatabaseReadinessCheck(db.dataSource).check()).resolves.toBeUndefined();
  });

  it('fails with the connection error when the database goes away', async () => {
    const check = new DatabaseReadinessCheck(await throughProxy());
    await expect(check.check()).resolves.toBeUndefined();

    await proxy!.close();

    // A pooled connection the pool has not yet seen die may report "Connection terminated unexpectedly" first;
    // every probe fails, and the cause shows once the pool has to reconnect.
    const refused = new RegExp(`^database ping failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${proxy!.port}$`);
    const messages: string[] = [];
    while (messages.length < 5 && !refused.test(messages.at(-1) ?? '')) {
      messages.push(
        await check.check().then(
          () => 'passed',
          (error: Error) => error.message,
        ),
      );
    }
    expect(messages.every((message) => message.startsWith('database ping failed: '))).toBe(true);
    expect(messages.at(-1)).toMatch(refused);
  });

  it('fails within its timeout when the database hangs', async () => {
    const check = new DatabaseReadinessCheck(await throughProxy(), 300);
    await expect(check.check()).resolves.toBeUndefined();

    proxy!.blackhole();
    const started = performance.now();

    await expect(check.check()).rejects.toThrow('database did not answer SELECT 1 within 300 ms');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('fails clearly when the data source was never initialised (wrong port at start-up)', async () => {
    const dataSource = new DataSource(
      createDataSourceOptions({ url: 'postgres://postgres@127.0.0.1:1/nowhere' }),
    );
    await expect(dataSource.initialize()).rejects.toThrow(/ECONNREFUSED 127\.0\.0\.1:1/);

    await expect(new DatabaseReadinessCheck(dataSource).check()).rejects.toThrow(
      'database connection is not initialised',
    );
  });
});
