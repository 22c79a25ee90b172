import { type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createDataSourceOptions, type DatabaseOptions } from './data-source-options';

export interface DatabaseModuleOptions extends DatabaseOptions {
  /** Connection attempts at boot before the app fails to start; default 5. */
  readonly retryAttempts?: number;
  /** Pause between boot attempts; default 2 s. */
  readonly retryDelayMs?: number;
}

/**
 * The app's TypeORM connection (global: `DataSource` and `EntityManager` become injectable everywhere).
 * Import it once in the app module: `imports: [databaseModule({ ...config.db, entities, migrations })]`.
 */
export function databaseModule(options: DatabaseModuleOptions): DynamicModule {
  return TypeOrmModule.forRoot({
    ...createDataSourceOptions(options),
    retryAttempts: options.retryAttempts ?? 5,
    retryDelay: options.retryDelayMs ?? 2_000,
    autoLoadEntities: false,
  });
}
