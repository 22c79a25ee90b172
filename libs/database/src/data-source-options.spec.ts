import { DataSource } from 'typeorm';
import { tableNames, Widget } from '../test/widget.fixtures';
import { createDataSourceOptions, type DatabaseOptions } from './data-source-options';
import { createTestDatabase, type TestDatabase } from './testing/test-database';

describe(createDataSourceOptions.name, () => {
  it('never lets TypeORM touch the schema by itself', () => {
    const sneaky = { url: 'postgres://h/db', synchronize: true, migrationsRun: true, dropSchema: true };

    expect(createDataSourceOptions(sneaky as DatabaseOptions)).toMatchObject({
      type: 'postgres',
      synchronize: false,
      migrationsRun: false,
      dropSchema: false,
      migrationsTableName: 'migrations',
      migrationsTransactionMode: 'each',
    });
  });

  it('applies defaults and the given pool settings', () => {
    expect(createDataSourceOptions({ url: 'postgres://h/db' })).toMatchObject({
      poolSize: 10,
      applicationName: 'notifications',
      connectTimeoutMS: 10_000,
      extra: { statement_timeout: 30_000 },
    });
    expect(
      createDataSourceOptions({
        url: 'postgres://h/db',
        poolSize: 3,
        statementTimeoutMs: 500,
        applicationName: 'orders',
      }),
    ).toMatchObject({ poolSize: 3, applicationName: 'orders', extra: { statement_timeout: 500 } });
  });

  describe('against PostgreSQL', () => {
    let db: TestDatabase;
    let dataSource: DataSource;

    beforeAll(async () => {
      db = await createTestDatabase({ prefix: 'options' });
      dataSource = await new DataSource(
        createDataSourceOptions({
          url: db.url,
          entities: [Widget],
          statementTimeoutMs: 1_500,
          applicationName: 'orders-test',
        }),
      ).initialize();
    });

    afterAll(async () => {
      await dataSource.destroy();
      await db.drop();
    });

    it('sets statement_timeout and application_name on every connection', async () => {
      expect(await dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '1500ms' }]);
      expect(
        await dataSource.query('SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()'),
      ).toEqual([{ application_name: 'orders-test' }]);
    });

    it('cancels statements that run longer than the timeout', async () => {
      await expect(dataSource.query('SELECT pg_sleep(3)')).rejects.toThrow(/statement timeout/);
    });

    it('does not create tables for entities (no synchronize)', async () => {
      expect(await tableNames((sql) => dataSource.query(sql))).toEqual([]);
      await expect(dataSource.getRepository(Widget).find()).rejects.toThrow(
        /relation "widgets" does not exist/,
      );
    });
  });
});
