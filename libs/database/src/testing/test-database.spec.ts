import { Client } from 'pg';
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  AddWidgetColour1700000000002,
  CreateWidgets1700000000001,
  tableNames,
} from '../../test/widget.fixtures';
import { type MigrationClass } from '../migrations';
import { createTestDatabase, type TestDatabase } from './test-database';

const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: SERVER });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const databasesLike = (pattern: string): Promise<string[]> =>
  admin(async (client) =>
    (
      await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        pattern,
      ])
    ).rows.map((row) => row.datname),
  );

/** A migration class with a name no other run has used, so that it needs a template of its own. */
function uniqueMigration(): MigrationClass {
  const name = `CreateGadgets${Math.random().toString(36).slice(2, 8)}${Date.now()}`;
  const classes: Record<string, MigrationClass> = {
    [name]: class implements MigrationInterface {
      async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query('CREATE TABLE gadgets (id serial PRIMARY KEY)');
      }
      async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query('DROP TABLE gadgets');
      }
    },
  };
  return classes[name]!;
}

describe(createTestDatabase.name, () => {
  const created: TestDatabase[] = [];
  const templates = new Set<string>();

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await Promise.all(created.map((db) => db.drop()));
    await admin(async (client) => {
      for (const template of templates)
        await client.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    });
  });

  async function create(options: Parameters<typeof createTestDatabase>[0]): Promise<TestDatabase> {
    const db = await createTestDatabase(options);
    created.push(db);
    return db;
  }

  it('creates a uniquely named, connected database and drops it', async () => {
    const db = await createTestDatabase({ prefix: 'Create-Drop' });

    expect(db.name).toMatch(/^test_create_drop_[0-9a-f]{8}$/);
    expect(db.url).toBe(`postgres://postgres@127.0.0.1:5432/${db.name}`);
    expect(await db.dataSource.query('SELECT current_database() AS name')).toEqual([{ name: db.name }]);
    expect(await databasesLike(db.name)).toEqual([db.name]);

    await db.drop();

    expect(db.dataSource.isInitialized).toBe(false);
    expect(await databasesLike(db.name)).toEqual([]);
    await expect(db.drop()).resolves.toBeUndefined();
  });

  it('drops a database that still has other connections', async () => {
    const db = await createTestDatabase({ prefix: 'force' });
    const straggler = new Client({ connectionString: db.url });
    straggler.on('error', () => undefined);
    await straggler.connect();

    await db.drop();

    expect(await databasesLike(db.name)).toEqual([]);
  });

  it('clones a migrated template shared by databases with the same migrations', async () => {
    const migrations = [CreateWidgets1700000000001, AddWidgetColour1700000000002];
    const [first, second] = await Promise.all([
      create({ prefix: 'tpl', migrations }),
      create({ prefix: 'tpl', migrations }),
    ]);

    expect(first.template).toMatch(/^test_tpl_[0-9a-f]{16}$/);
    expect(second.template).toBe(first.template);
    expect(await tableNames((sql) => first.dataSource.query(sql))).toEqual(['migrations', 'widgets']);
    await first.dataSource.query("INSERT INTO widgets (label) VALUES ('only in first')");
    expect(await second.dataSource.query('SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 0 }]);
    expect(
      (await first.dataSource.query<Array<{ name: string }>>('SELECT name FROM migrations ORDER BY id')).map(
        (r) => r.name,
      ),
    ).toEqual(['CreateWidgets1700000000001', 'AddWidgetColour1700000000002']);
  });

  it('creates a new template once, however many databases ask for it at the same time', async () => {
    const migrations = [uniqueMigration()];

    const databases = await Promise.all(
      Array.from({ length: 4 }, () => create({ prefix: 'race', migrations })),
    );
    const template = databases[0]!.template!;
    templates.add(template);

    expect(new Set(databases.map((db) => db.template))).toEqual(new Set([template]));
    expect(await databasesLike(template)).toEqual([template]);
    expect(await databasesLike('test_tplbuild_%')).toEqual([]);
    for (const db of databases)
      expect(await tableNames((sql) => db.dataSource.query(sql))).toContain('gadgets');
  });

  it('migrates the database itself when asked not to use a template', async () => {
    const db = await create({ prefix: 'notpl', migrations: [CreateWidgets1700000000001], template: false });

    expect(db.template).toBeUndefined();
    expect(await tableNames((sql) => db.dataSource.query(sql))).toEqual(['migrations', 'widgets']);
  });

  it('leaves no database behind when a migration fails', async () => {
    class Broken1700000000009 implements MigrationInterface {
      async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query('CREATE TABLE nowhere.broken (id int)');
      }
      down(): Promise<void> {
        return Promise.resolve();
      }
    }
    const prefix = `broken_${Math.random().toString(36).slice(2, 8)}`;
    // TypeORM reports failed migrations on the console whatever the logging option.
    jest.spyOn(console, 'log').mockImplementation(() => undefined);

    await expect(
      createTestDatabase({ prefix, migrations: [Broken1700000000009], template: false }),
    ).rejects.toThrow(/schema "nowhere" does not exist/);
    await expect(createTestDatabase({ prefix, migrations: [Broken1700000000009] })).rejects.toThrow(
      /schema "nowhere" does not exist/,
    );

    expect(await databasesLike(`test_${prefix}_%`)).toEqual([]);
    expect(await databasesLike('test_tplbuild_%')).toEqual([]);
  });
});
