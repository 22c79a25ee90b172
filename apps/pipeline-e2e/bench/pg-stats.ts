import type { Pool } from 'pg';

// PostgreSQL's cumulative statistics of one database, as deltas around a phase, without the benchmark's own work.
//
// PostgreSQL 15 keeps these counters in shared memory, but each backend adds its own to them only now and then
// (src/backend/utils/activity/pgstat.c): at the end of a transaction when at least PGSTAT_MIN_INTERVAL (1 s) has
// passed since its last flush, otherwise PGSTAT_IDLE_INTERVAL (10 s) later once it is idle. So a reading right
// after a phase misses what backends did in their last second, and what a backend that then went idle did in its
// last 10 s. `settle()` waits until neither can be pending.

/** Seconds a backend may sit idle with unflushed statistics (PGSTAT_IDLE_INTERVAL), plus a second of margin. */
const IDLE_FLUSH_SECONDS = 11;
/** A backend that ran a transaction this recently flushes at its next one (PGSTAT_MIN_INTERVAL, plus margin). */
const BUSY_FLUSH_SECONDS = 2;
const SETTLE_TIMEOUT_MS = 30_000;
const SETTLE_POLL_MS = 500;

export interface PgCounters {
  /** `pg_stat_database`: xact_commit + xact_rollback. */
  readonly transactions: number;
  /** `pg_stat_user_tables`: n_tup_ins, n_tup_upd, n_tup_del summed over the database's tables. */
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  /** `pg_stat_user_indexes.idx_tup_read` per index (index entries returned by scans, dead ones included). */
  readonly indexRowsRead: Readonly<Record<string, number>>;
  readonly indexScans: Readonly<Record<string, number>>;
  /** `pg_stat_user_tables.seq_tup_read` per table. */
  readonly seqRowsRead: Readonly<Record<string, number>>;
}

const emptyCounters = (): PgCounters => ({
  transactions: 0,
  inserted: 0,
  updated: 0,
  deleted: 0,
  indexRowsRead: {},
  indexScans: {},
  seqRowsRead: {},
});

function add(into: Record<string, number>, key: string, value: number): void {
  into[key] = (into[key] ?? 0) + value;
}

function subtract(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) out[key] = (a[key] ?? 0) - (b[key] ?? 0);
  return out;
}

export function counterDelta(before: PgCounters, after: PgCounters): PgCounters {
  return {
    transactions: after.transactions - before.transactions,
    inserted: after.inserted - before.inserted,
    updated: after.updated - before.updated,
    deleted: after.deleted - before.deleted,
    indexRowsRead: subtract(after.indexRowsRead, before.indexRowsRead),
    indexScans: subtract(after.indexScans, before.indexScans),
    seqRowsRead: subtract(after.seqRowsRead, before.seqRowsRead),
  };
}

/**
 * The benchmark's connection to the run's database. Every statement it runs is counted, and the statements that
 * read the pipeline's tables (`tracked`) also report, in their own transaction, how many index entries and table
 * rows they read (`pg_stat_get_xact_*`: this transaction's not yet flushed counts). Readings subtract both, so the
 * benchmark's once-a-second progress counts do not show up as the pipeline's rows read per notification.
 */
export class PgStats {
  private readonly own = {
    transactions: 0,
    indexRowsRead: {} as Record<string, number>,
    indexScans: {} as Record<string, number>,
    seqRowsRead: {} as Record<string, number>,
  };

  constructor(
    private readonly pool: Pool,
    private readonly database: string,
  ) {}

  /** One statement in a transaction of its own (autocommit), counted as the benchmark's. */
  async query<T>(sql: string, parameters: readonly unknown[] = []): Promise<T[]> {
    this.own.transactions += 1;
    return (await this.pool.query(sql, [...parameters])).rows as T[];
  }

  /** A statement on the pipeline's tables: its rows read are recorded as the benchmark's own. */
  async tracked<T>(sql: string, parameters: readonly unknown[] = []): Promise<T[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const rows = (await client.query(sql, [...parameters])).rows as T[];
      const reads = await client.query<{ kind: string; name: string; scans: string; rows: string }>(
        `SELECT 'index' AS kind, indexrelname AS name, pg_stat_get_xact_numscans(indexrelid) AS scans,
                pg_stat_get_xact_tuples_returned(indexrelid) AS rows
           FROM pg_stat_user_indexes
         UNION ALL
         SELECT 'table', relname, pg_stat_get_xact_numscans(relid), pg_stat_get_xact_tuples_returned(relid)
           FROM pg_stat_user_tables`,
      );
      await client.query('COMMIT');
      this.own.transactions += 1;
      for (const read of reads.rows) {
        if (read.kind === 'index') {
          add(this.own.indexRowsRead, read.name, Number(read.rows));
          add(this.own.indexScans, read.name, Number(read.scans));
        } else {
          // For a table, "tuples returned" are the rows its sequential scans read.
          add(this.own.seqRowsRead, read.name, Number(read.rows));
        }
      }
      return rows;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The database's counters now, minus the benchmark's own statements so far. */
  async read(): Promise<PgCounters> {
    // A fresh snapshot: within a transaction PostgreSQL may serve cached statistics (stats_fetch_consistency).
    await this.query('SELECT pg_stat_clear_snapshot()');
    const [database] = await this.query<{ transactions: string }>(
      `SELECT xact_commit + xact_rollback AS transactions FROM pg_stat_database WHERE datname = $1`,
      [this.database],
    );
    const [tables] = await this.query<{ inserted: string; updated: string; deleted: string }>(
      `SELECT coalesce(sum(n_tup_ins), 0) AS inserted, coalesce(sum(n_tup_upd), 0) AS updated,
              coalesce(sum(n_tup_del), 0) AS deleted FROM pg_stat_user_tables`,
    );
    const scans = await this.query<{ kind: string; name: string; scans: string; rows: string }>(
      `SELECT 'index' AS kind, indexrelname AS name, idx_scan AS scans, idx_tup_read AS rows FROM pg_stat_user_indexes
       UNION ALL
       SELECT 'table', relname, seq_scan, seq_tup_read FROM pg_stat_user_tables`,
    );
    const indexRowsRead: Record<string, number> = {};
    const indexScans: Record<string, number> = {};
    const seqRowsRead: Record<string, number> = {};
    for (const row of scans) {
      if (row.kind === 'index') {
        add(indexRowsRead, row.name, Number(row.rows));
        add(indexScans, row.name, Number(row.scans));
      } else {
        add(seqRowsRead, row.name, Number(row.rows));
      }
    }
    const own: PgCounters = {
      ...emptyCounters(),
      transactions: this.own.transactions,
      indexRowsRead: { ...this.own.indexRowsRead },
      indexScans: { ...this.own.indexScans },
      seqRowsRead: { ...this.own.seqRowsRead },
    };
    return counterDelta(own, {
      transactions: Number(database?.transactions ?? 0),
      inserted: Number(tables?.inserted ?? 0),
      updated: Number(tables?.updated ?? 0),
      deleted: Number(tables?.deleted ?? 0),
      indexRowsRead,
      indexScans,
      seqRowsRead,
    });
  }

  /**
   * Waits until no backend of the database can still hold unflushed statistics: the row counters unchanged for
   * BUSY_FLUSH_SECONDS, and no backend idle for longer than that but not yet IDLE_FLUSH_SECONDS (those flush when
   * their idle timer fires). Returns the seconds waited; gives up (and says so) after SETTLE_TIMEOUT_MS.
   */
  async settle(log: (line: string) => void): Promise<number> {
    const started = Date.now();
    let last: number | undefined;
    let unchangedSince = Date.now();
    for (;;) {
      await this.query('SELECT pg_stat_clear_snapshot()');
      const [row] = await this.query<{ written: string; pending: string }>(
        `SELECT (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables) AS written,
                (SELECT count(*) FROM pg_stat_activity
                  WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'idle'
                    AND state_change < now() - make_interval(secs => $2)
                    AND state_change > now() - make_interval(secs => $3)) AS pending`,
        [this.database, BUSY_FLUSH_SECONDS, IDLE_FLUSH_SECONDS],
      );
      const written = Number(row?.written ?? 0);
      if (written !== last) {
        last = written;
        unchangedSince = Date.now();
      } else if (
        Date.now() - unchangedSince >= BUSY_FLUSH_SECONDS * 1000 &&
        Number(row?.pending ?? 0) === 0
      ) {
        return (Date.now() - started) / 1000;
      }
      if (Date.now() - started > SETTLE_TIMEOUT_MS) {
        log(`PostgreSQL statistics still moving after ${SETTLE_TIMEOUT_MS / 1000} s; reading them anyway`);
        return (Date.now() - started) / 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }
}
