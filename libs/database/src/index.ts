export {
  createDataSourceOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_SIZE,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type DatabaseOptions,
} from './data-source-options';
export {
  DATABASE_READINESS_TIMEOUT_MS,
  DatabaseReadinessCheck,
  DEFAULT_DATABASE_READINESS_TIMEOUT_MS,
} from './database-readiness.check';
export { isDatabaseUnavailable } from './database-unavailable';
export { databaseModule, type DatabaseModuleOptions } from './database.module';
export { MIGRATION_CLI_USAGE, migrationCli, type MigrationCliOutput } from './migration-cli';
export {
  listMigrations,
  revertLastMigration,
  runMigrations,
  type MigrationClass,
  type MigrationStatus,
} from './migrations';
