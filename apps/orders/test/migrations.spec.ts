import { createDataSourceOptions, migrationCli } from '@notifications/database';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { DataSource } from 'typeorm';
import { ordersEntities } from '../src/store/entities';
import { ordersMigrations } from '../src/store/migrations';

describe('orders migrations', () => {
  let db: TestDatabase;
  const output = {
    lines: [] as string[],
    log: (line: string) => output.lines.push(line),
    error: (line: string) => output.lines.push(line),
  };
  const cli = (command: string) =>
    migrationCli(
      () =>
        new DataSource(
          createDataSourceOptions({ url: db.url, migrations: ordersMigrations, statementTimeoutMs: 0 }),
        ),
      [command],
      output,
    );

  beforeEach(async () => {
    // Empty: each test applies the migrations itself.
    db = await createTestDatabase({ prefix: 'orders_migrations' });
  });

  afterEach(async () => {
    await db?.drop();
  });

  it('apply, report, revert and re-apply through the migrate CLI', async () => {
    expect(await cli('check')).toBe(1);
    expect(await cli('run')).toBe(0);
    expect(await cli('check')).toBe(0);
    output.lines.length = 0;
    expect(await cli('show')).toBe(0);
    expect(output.lines.join('\n')).toBe(
      '[X] CreateOrdersSchema1767225600000\n[X] SeedDevContactPoints1767225600001\n[X] AddTraceContext1795305600000\n' +
        '[X] AddOrderProgressIndex1796000000000\n[X] AddOrderHalt1796860800000\n' +
        '[X] AddStatusSubscriptions1797465600000',
    );
    for (let reverted = 0; reverted < ordersMigrations.length; reverted += 1) {
      expect(await cli('revert')).toBe(0);
    }
    const tables: { n: number }[] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
    );
    expect(tables).toEqual([{ n: 0 }]);
    expect(await cli('run')).toBe(0);
  });

  it('declare every column the entities map, with the same types (no column or table diff)', async () => {
    expect(await cli('run')).toBe(0);
    const migrated = new DataSource(createDataSourceOptions({ url: db.url, entities: ordersEntities }));
    await migrated.initialize();
    try {
      const diff = (await migrated.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);
      // Indexes, checks and defaults live in the migrations only (TypeORM cannot express partial indexes);
      // tables, columns and their types must agree.
      expect(
        diff.filter((sql) =>
          /CREATE TABLE|DROP TABLE|ADD COLUMN|DROP COLUMN|ALTER COLUMN \S+ TYPE|ADD "|DROP COLUMN/i.test(sql),
        ),
      ).toEqual([]);
    } finally {
      await migrated.destroy();
    }
  });
});
