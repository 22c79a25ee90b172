import { type DataSource } from 'typeorm';
import { describeError } from './describe-error';
import { listMigrations, revertLastMigration, runMigrations } from './migrations';

export interface MigrationCliOutput {
  log(message: string): void;
  error(message: string): void;
}

export const MIGRATION_CLI_USAGE = [
  'Usage: migrate <command>',
  '  run     apply every pending migration',
  '  revert  revert the last applied migration',
  '  show    list migrations: [X] applied, [ ] pending, [?] applied but unknown to this code',
  '  check   like show, but exit with 1 when a migration is pending (for CI)',
].join('\n');

const MARK = { executed: '[X]', pending: '[ ]', unknown: '[?]' } as const;

const COMMANDS = ['run', 'revert', 'show', 'check'] as const;
type Command = (typeof COMMANDS)[number];

const isCommand = (value: string | undefined): value is Command =>
  COMMANDS.some((command) => command === value);

/**
 * The body of an app's `migrate` target: `migrationCli(() => new DataSource(options), process.argv.slice(2))`.
 * Initialises the data source if needed, always destroys it, and resolves to the process exit code
 * (0 done, 1 failed or pending on `check`, 2 usage error); it never calls `process.exit` itself.
 */
export async function migrationCli(
  dataSourceFactory: () => DataSource | Promise<DataSource>,
  argv: readonly string[],
  output: MigrationCliOutput = console,
): Promise<number> {
  const [command, ...rest] = argv;
  if (!isCommand(command)) {
    output.error(
      command === undefined ? MIGRATION_CLI_USAGE : `Unknown command "${command}"\n${MIGRATION_CLI_USAGE}`,
    );
    return 2;
  }
  if (rest.length > 0) {
    output.error(`Unexpected arguments: ${rest.join(' ')}\n${MIGRATION_CLI_USAGE}`);
    return 2;
  }

  let dataSource: DataSource | undefined;
  try {
    dataSource = await dataSourceFactory();
    if (!dataSource.isInitialized) await dataSource.initialize();
    return await execute(command, dataSource, output);
  } catch (error) {
    output.error(`Migration ${command} failed: ${describeError(error)}`);
    return 1;
  } finally {
    if (dataSource?.isInitialized) await dataSource.destroy();
  }
}

async function execute(
  command: Command,
  dataSource: DataSource,
  output: MigrationCliOutput,
): Promise<number> {
  switch (command) {
    case 'run': {
      const applied = await runMigrations(dataSource);
      output.log(
        applied.length === 0 ? 'No pending migrations.' : applied.map((name) => `Applied ${name}`).join('\n'),
      );
      return 0;
    }
    case 'revert': {
      const reverted = await revertLastMigration(dataSource);
      output.log(reverted === undefined ? 'No migration to revert.' : `Reverted ${reverted}`);
      return 0;
    }
    case 'show':
    case 'check': {
      const migrations = await listMigrations(dataSource);
      output.log(
        migrations.length === 0
          ? 'No migrations.'
          : migrations.map((migration) => `${MARK[migration.state]} ${migration.name}`).join('\n'),
      );
      const pending = migrations.filter((migration) => migration.state === 'pending').length;
      if (command === 'check' && pending > 0) {
        output.error(`${pending} pending migration(s).`);
        return 1;
      }
      return 0;
    }
  }
}
