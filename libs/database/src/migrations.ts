import { MigrationExecutor, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

/** A TypeORM migration class, as an app lists its migrations. */
export type MigrationClass = new () => MigrationInterface;

export interface MigrationStatus {
  readonly name: string;
  /** `executed` in the database, `pending` in code only, `unknown` in the database but no longer in code. */
  readonly state: 'executed' | 'pending' | 'unknown';
}

// Arbitrary but fixed: every process migrating the same database serialises on this session-level lock, so two
// deploy jobs started together cannot both apply the same migration.
const MIGRATION_LOCK_KEY = 727_001;

async function withMigrationLock<T>(
  dataSource: DataSource,
  work: (executor: MigrationExecutor) => Promise<T>,
): Promise<T> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    await queryRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // The executor runs on the lock's own connection, which also works with a pool of one.
      return await work(executorOn(dataSource, queryRunner));
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await queryRunner.release();
  }
}

function executorOn(dataSource: DataSource, queryRunner?: QueryRunner): MigrationExecutor {
  const executor = new MigrationExecutor(dataSource, queryRunner);
  executor.transaction = dataSource.options.migrationsTransactionMode ?? 'each';
  return executor;
}

/** Applies every pending migration; returns the names applied, in order. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  return withMigrationLock(dataSource, async (executor) =>
    (await executor.executePendingMigrations()).map((migration) => migration.name),
  );
}

/** Reverts the last applied migration; returns its name, or `undefined` when none was applied. */
export async function revertLastMigration(dataSource: DataSource): Promise<string | undefined> {
  return withMigrationLock(dataSource, async (executor) => {
    const before = await executor.getExecutedMigrations();
    await executor.undoLastMigration();
    const after = new Set((await executor.getExecutedMigrations()).map((migration) => migration.name));
    return before.find((migration) => !after.has(migration.name))?.name;
  });
}

/** Every migration known to the code or the database, oldest first. */
export async function listMigrations(dataSource: DataSource): Promise<MigrationStatus[]> {
  const executor = executorOn(dataSource);
  const executed = await executor.getExecutedMigrations();
  const pending = await executor.getPendingMigrations();
  const inCode = new Set(
    dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name),
  );
  return [
    ...[...executed]
      .sort((a, b) => a.timestamp - b.timestamp || (a.id ?? 0) - (b.id ?? 0))
      .map((migration): MigrationStatus => ({
        name: migration.name,
        state: inCode.has(migration.name) ? 'executed' : 'unknown',
      })),
    ...pending.map((migration): MigrationStatus => ({ name: migration.name, state: 'pending' })),
  ];
}
