import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  AddWidgetColour1700000000002,
  CreateWidgets1700000000001,
  tableNames,
} from '../test/widget.fixtures';
import { createDataSourceOptions } from './data-source-options';
import { listMigrations, revertLastMigration, runMigrations } from './migrations';
import { createTestDatabase, type TestDatabase } from './testing/test-database';

describe('migrations', () => {
  let db: TestDatabase;
  const extra: DataSource[] = [];

  beforeEach(async () => {
    db = await createTestDatabase({
      prefix: 'migrations',
      migrations: [CreateWidgets1700000000001, AddWidgetColour1700000000002],
      template: false,
    });
    // Start from an empty schema: the helper already applied the migrations.
    await revertLastMigration(db.dataSource);
    await revertLastMigration(db.dataSource);
  });

  afterEach(async () => {
    await Promise.all(extra.splice(0).map((dataSource) => dataSource.destroy()));
    await db.drop();
  });

  async function connect(migrations: Array<new () => MigrationInterface>, poolSize = 2): Promise<DataSource> {
    const dataSource = await new DataSource(
      createDataSourceOptions({ url: db.url, migrations, poolSize }),
    ).initialize();
    extra.push(dataSource);
    return dataSource;
  }

  describe(runMigrations.name, () => {
    it('applies pending migrations in order, once', async () => {
      expect(await tableNames((sql) => db.dataSource.query(sql))).toEqual(['migrations']);

      expect(await runMigrations(db.dataSource)).toEqual([
        'CreateWidgets1700000000001',
        'AddWidgetColour1700000000002',
      ]);
      expect(await runMigrations(db.dataSource)).toEqual([]);
      expect(await tableNames((sql) => db.dataSource.query(sql))).toEqual(['migrations', 'widgets']);
    });

    it('lets only one of several concurrent runs apply each migration', async () => {
      const sources = await Promise.all(
        [1, 2, 3].map(() => connect([CreateWidgets1700000000001, AddWidgetColour1700000000002])),
      );

      const results = await Promise.all(sources.map((dataSource) => runMigrations(dataSource)));

      expect(results.flat().sort()).toEqual(['AddWidgetColour1700000000002', 'CreateWidgets1700000000001']);
    });

    it('works with a pool of one connection', async () => {
      const dataSource = await connect([CreateWidgets1700000000001], 1);

      expect(await runMigrations(dataSource)).toEqual(['CreateWidgets1700000000001']);
    });

    it('runs a migration outside a transaction when it opts out', async () => {
      class IndexWidgetsConcurrently1700000000003 implements MigrationInterface {
        readonly transaction = false;
        async up(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query('CREATE INDEX CONCURRENTLY widgets_label ON widgets (label)');
        }
        async down(queryRunner: QueryRunner): Promise<void> {
          await queryRunner.query('DROP INDEX CONCURRENTLY widgets_label');
        }
      }
      const dataSource = await connect([CreateWidgets1700000000001, IndexWidgetsConcurrently1700000000003]);

      expect(await runMigrations(dataSource)).toHaveLength(2);
    });
  });

  describe(revertLastMigration.name, () => {
    it('reverts the last applied migration and says which', async () => {
      await runMigrations(db.dataSource);

      expect(await revertLastMigration(db.dataSource)).toBe('AddWidgetColour1700000000002');
      expect(
        await db.dataSource.query(
          "SELECT column_name FROM information_schema.columns WHERE table_name = 'widgets' ORDER BY 1",
        ),
      ).toEqual([{ column_name: 'id' }, { column_name: 'label' }]);
      expect(await revertLastMigration(db.dataSource)).toBe('CreateWidgets1700000000001');
      expect(await revertLastMigration(db.dataSource)).toBeUndefined();
    });
  });

  describe(listMigrations.name, () => {
    it('lists executed, pending and unknown migrations', async () => {
      expect(await listMigrations(db.dataSource)).toEqual([
        { name: 'CreateWidgets1700000000001', state: 'pending' },
        { name: 'AddWidgetColour1700000000002', state: 'pending' },
      ]);

      await runMigrations(db.dataSource);
      const olderCode = await connect([CreateWidgets1700000000001]);

      expect(await listMigrations(olderCode)).toEqual([
        { name: 'CreateWidgets1700000000001', state: 'executed' },
        { name: 'AddWidgetColour1700000000002', state: 'unknown' },
      ]);
    });
  });
});
