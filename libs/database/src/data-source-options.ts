import { type DataSourceOptions, type LoggerOptions } from 'typeorm';

export interface DatabaseOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  readonly entities?: DataSourceOptions['entities'];
  /** Prefer an explicit array of migration classes over globs: it survives bundling and enables test templates. */
  readonly migrations?: DataSourceOptions['migrations'];
  /** Connections in the pool; default 10. */
  readonly poolSize?: number;
  /** Server-side `statement_timeout` of every connection; default 30 s; 0 leaves the server's default. */
  readonly statementTimeoutMs?: number;
  /** Shown in `pg_stat_activity.application_name`; default `notifications`. */
  readonly applicationName?: string;
  /** Bound on opening a connection and on waiting for a free one in the pool; default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly logging?: LoggerOptions;
}

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * TypeORM options for PostgreSQL. The schema is owned by migrations alone: `synchronize`, `dropSchema` and
 * `migrationsRun` are always off (whatever is passed in), and migrations run by command (`migrationCli`).
 */
export function createDataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return {
    type: 'postgres',
    url: options.url,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    // Each migration in its own transaction, so that one may opt out (`transaction = false`) for statements
    // PostgreSQL refuses inside a transaction, such as CREATE INDEX CONCURRENTLY.
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    dropSchema: false,
    poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
    applicationName: options.applicationName ?? 'notifications',
    connectTimeoutMS: connectTimeoutMs,
    logging: options.logging ?? false,
    // Passed to node-postgres' Pool / Client.
    extra: {
      statement_timeout: statementTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}
