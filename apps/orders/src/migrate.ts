import { databaseSettings, loadConfig } from '@notifications/config';
import { createDataSourceOptions, migrationCli } from '@notifications/database';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ordersMigrations } from './store/migrations';

// `nx run orders:migrate [run|revert|show|check]`; without a command it applies pending migrations (what
// `npm start` needs).
const config = loadConfig(z.object({ db: databaseSettings }));
const argv = process.argv.slice(2);
void migrationCli(
  () =>
    new DataSource(
      createDataSourceOptions({
        ...config.db,
        migrations: ordersMigrations,
        // A migration may legitimately run longer than a request.
        statementTimeoutMs: 0,
        applicationName: 'orders-migrate',
      }),
    ),
  argv.length === 0 ? ['run'] : argv,
).then((code) => {
  process.exitCode = code;
});
