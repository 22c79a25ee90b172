import { createHash, randomBytes } from 'node:crypto';
import { databaseSettings, loadConfig } from '@notifications/config';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createDataSourceOptions } from '../data-source-options';
import { type MigrationClass, runMigrations } from '../migrations';

export interface TestDatabaseOptions {
  /** Part of the database name (`test_<prefix>_<random>`); letters, digits and `_` are kept. Default `db`. */
  readonly prefix?: string;
  /** Applied before the data source is handed out. */
  readonly migrations?: readonly MigrationClass[];
  readonly entities?: DataSourceOptions['entities'];
  /** A URL of the server to create the database on; default the server of DATABASE_URL (or the local one). */
  readonly serverUrl?: string;
  /**
   * Clone a template database migrated once per set of migrations (default) instead of migrating each new
   * database. The template is keyed by a hash of the migrations' names and source text.
   */
  readonly template?: boolean;
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Initialised; its options carry the given migrations and entities. */
  readonly dataSource: DataSource;
  /** The template database this one was cloned from, if any (shared: never connect to it). */
  readonly template?: string;
  /** Closes the data source and drops the database, whoever else is still connected. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database on a real PostgreSQL server, for integration tests: each suite (or test)
 * gets its own, so suites run in parallel and in any order.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? loadConfig(databaseSettings).url;
  const prefix =
    (options.prefix ?? 'db')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 40) || 'db';
  const name = `test_${prefix}_${randomBytes(4).toString('hex')}`;
  const migrations = options.migrations ?? [];
  const useTemplate = (options.template ?? true) && migrations.length > 0;

  const template = useTemplate ? await ensureTemplate(serverUrl, migrations) : undefined;
  await withAdminClient(serverUrl, (admin) =>
    admin.query(`CREATE DATABASE ${quote(name)}${template ? ` TEMPLATE ${quote(template)}` : ''}`),
  );

  const url = databaseUrl(serverUrl, name);
  const dataSource = new DataSource(
    createDataSourceOptions({
      url,
      entities: options.entities ?? [],
      migrations: [...migrations],
      poolSize: 5,
      applicationName: name,
    }),
  );
  try {
    await dataSource.initialize();
    if (migrations.length > 0 && !useTemplate) await runMigrations(dataSource);
  } catch (error) {
    await dropDatabase(serverUrl, name, dataSource);
    throw error;
  }

  let dropped: Promise<void> | undefined;
  return {
    name,
    url,
    dataSource,
    ...(template === undefined ? {} : { template }),
    drop: () => (dropped ??= dropDatabase(serverUrl, name, dataSource)),
  };
}

async function dropDatabase(serverUrl: string, name: string, dataSource: DataSource): Promise<void> {
  if (dataSource.isInitialized) await dataSource.destroy();
  // FORCE (PostgreSQL 13+) terminates connections a test forgot to close.
  await withAdminClient(serverUrl, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`),
  );
}

/**
 * Returns the name of a template database holding `migrations`, creating it if needed. Safe under parallel
 * Jest workers: creation is serialised by an advisory lock, and the template is migrated under a temporary name
 * then renamed, so no worker ever sees a half-migrated template (even after a crash mid-way).
 */
async function ensureTemplate(serverUrl: string, migrations: readonly MigrationClass[]): Promise<string> {
  const template = `test_tpl_${migrationsHash(migrations)}`;
  return withAdminClient(serverUrl, async (admin) => {
    if (await databaseExists(admin, template)) return template;
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [template]);
    try {
      if (await databaseExists(admin, template)) return template;
      const building = `test_tplbuild_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${quote(building)}`);
      const dataSource = new DataSource(
        createDataSourceOptions({
          url: databaseUrl(serverUrl, building),
          migrations: [...migrations],
          poolSize: 1,
        }),
      );
      try {
        await dataSource.initialize();
        await runMigrations(dataSource);
        await dataSource.destroy();
        await admin.query(`ALTER DATABASE ${quote(building)} RENAME TO ${quote(template)}`);
      } catch (error) {
        await dropDatabase(serverUrl, building, dataSource);
        throw error;
      }
      return template;
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [template]);
    }
  });
}

function migrationsHash(migrations: readonly MigrationClass[]): string {
  const hash = createHash('sha256');
  // The source text is included so that editing a migration in place (common before it is merged) yields
  // a new template instead of a stale one.
  for (const migration of migrations) hash.update(`${migration.name}\n${migration.toString()}\n`);
  return hash.digest('hex').slice(0, 16);
}

async function databaseExists(admin: Client, name: string): Promise<boolean> {
  const result = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return result.rowCount === 1;
}

async function withAdminClient<T>(serverUrl: string, work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({
    connectionString: databaseUrl(serverUrl, 'postgres'),
    application_name: 'test-admin',
  });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
