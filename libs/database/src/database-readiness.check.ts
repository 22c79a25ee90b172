import { Inject, Injectable, Optional } from '@nestjs/common';
import { type ReadinessCheck } from '@notifications/health';
import { DataSource } from 'typeorm';
import { describeError } from './describe-error';

/** Optional provider: how long `DatabaseReadinessCheck` waits for `SELECT 1`, in ms. */
export const DATABASE_READINESS_TIMEOUT_MS = Symbol('DATABASE_READINESS_TIMEOUT_MS');

// Below the health module's default per-check bound (3 s), so that the probe reports this check's own message.
export const DEFAULT_DATABASE_READINESS_TIMEOUT_MS = 2_000;

/** Readiness: the pool can reach PostgreSQL and run `SELECT 1` in time. */
@Injectable()
export class DatabaseReadinessCheck implements ReadinessCheck {
  readonly name = 'database';
  private readonly pingTimeoutMs: number;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(DATABASE_READINESS_TIMEOUT_MS) timeoutMs?: number,
  ) {
    this.pingTimeoutMs = timeoutMs ?? DEFAULT_DATABASE_READINESS_TIMEOUT_MS;
  }

  async check(): Promise<void> {
    if (!this.dataSource.isInitialized) throw new Error('database connection is not initialised');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`database did not answer SELECT 1 within ${this.pingTimeoutMs} ms`)),
        this.pingTimeoutMs,
      );
    });
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1').catch((error: unknown) => {
          throw new Error(`database ping failed: ${describeError(error)}`);
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
