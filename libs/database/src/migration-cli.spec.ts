import { DataSource } from 'typeorm';
import { AddWidgetColour1700000000002, CreateWidgets1700000000001 } from '../test/widget.fixtures';
import { createDataSourceOptions } from './data-source-options';
import { MIGRATION_CLI_USAGE, migrationCli } from './migration-cli';
import { createTestDatabase, type TestDatabase } from './testing/test-database';

describe(migrationCli.name, () => {
  let db: TestDatabase;
  let created: DataSource[];
  let out: string[];
  let err: string[];
  const output = {
    log: (message: string) => out.push(message),
    error: (message: string) => err.push(message),
  };

  beforeEach(async () => {
    db = await createTestDatabase({ prefix: 'cli' });
    created = [];
    out = [];
    err = [];
  });

  afterEach(() => db.drop());

  const factory = () => {
    const dataSource = new DataSource(
      createDataSourceOptions({
        url: db.url,
        migrations: [CreateWidgets1700000000001, AddWidgetColour1700000000002],
      }),
    );
    created.push(dataSource);
    return dataSource;
  };

  async function cli(...argv: string[]): Promise<number> {
    out = [];
    err = [];
    return migrationCli(factory, argv, output);
  }

  it('shows, runs, checks and reverts migrations, closing its data source every time', async () => {
    expect(await cli('show')).toBe(0);
    expect(out).toEqual(['[ ] CreateWidgets1700000000001\n[ ] AddWidgetColour1700000000002']);

    expect(await cli('check')).toBe(1);
    expect(err).toEqual(['2 pending migration(s).']);

    expect(await cli('run')).toBe(0);
    expect(out).toEqual(['Applied CreateWidgets1700000000001\nApplied AddWidgetColour1700000000002']);

    expect(await cli('run')).toBe(0);
    expect(out).toEqual(['No pending migrations.']);

    expect(await cli('check')).toBe(0);
    expect(out).toEqual(['[X] CreateWidgets1700000000001\n[X] AddWidgetColour1700000000002']);

    expect(await cli('revert')).toBe(0);
    expect(out).toEqual(['Reverted AddWidgetColour1700000000002']);

    expect(created.length).toBeGreaterThan(0);
    expect(created.every((dataSource) => !dataSource.isInitialized)).toBe(true);
  });

  it('prints usage and exits with 2 on a missing or unknown command', async () => {
    expect(await cli()).toBe(2);
    expect(err).toEqual([MIGRATION_CLI_USAGE]);

    expect(await cli('migrate')).toBe(2);
    expect(err[0]).toMatch(/^Unknown command "migrate"\nUsage: migrate <command>/);

    expect(await cli('run', 'now')).toBe(2);
    expect(created).toEqual([]);
  });

  it('reports a failure and exits with 1', async () => {
    const code = await migrationCli(
      () => new DataSource(createDataSourceOptions({ url: 'postgres://postgres@127.0.0.1:1/nowhere' })),
      ['run'],
      output,
    );

    expect(code).toBe(1);
    expect(err).toEqual([expect.stringMatching(/^Migration run failed: .*ECONNREFUSED 127\.0\.0\.1:1/)]);
  });
});
