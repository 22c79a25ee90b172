import { type EntityManager } from 'typeorm';

/**
 * Rows of a raw statement. TypeORM's `query` returns `[rows, affectedCount]` for UPDATE and DELETE (also with
 * RETURNING) and the rows for everything else; this hides the difference.
 */
export async function queryRows<T>(
  manager: EntityManager,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<T[]> {
  const raw: unknown = await manager.query(sql, [...parameters]);
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') {
    return raw[0] as T[];
  }
  return Array.isArray(raw) ? (raw as T[]) : [];
}

/** Number of rows an UPDATE or DELETE touched. */
export async function execute(
  manager: EntityManager,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<number> {
  const raw: unknown = await manager.query(sql, [...parameters]);
  if (Array.isArray(raw) && raw.length === 2 && typeof raw[1] === 'number') return raw[1];
  return Array.isArray(raw) ? raw.length : 0;
}

/** PostgreSQL's unique_violation, optionally of one constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const {
    code,
    constraint: violated,
    driverError,
  } = error as {
    code?: unknown;
    constraint?: unknown;
    driverError?: unknown;
  };
  if (code === '23505') return constraint === undefined || violated === constraint;
  return driverError !== undefined && isUniqueViolation(driverError, constraint);
}

/**
 * For the rest of the caller's transaction, the planner takes an ordered index scan for a queue claim
 * (`ORDER BY … LIMIT … FOR UPDATE SKIP LOCKED` over a partial index). Queue tables change faster than autoanalyze
 * follows, so the planner's estimate is stale by nature (a few rows when there are 100 000): it then picks a bitmap
 * scan and a sort, which read every entry of the index, dead ones included, on every claim, and never mark dead
 * entries as such; the claims of one large order become quadratic. An ordered index scan stops after `LIMIT` rows
 * and marks the dead entries it passes (btree "simple deletion",
 * https://www.postgresql.org/docs/15/btree-implementation.html#BTREE-DELETION), so each is read about once.
 * `enable_*` only add a large cost to the disabled methods; they remain usable where nothing else is possible
 * (https://www.postgresql.org/docs/15/runtime-config-query.html#RUNTIME-CONFIG-QUERY-ENABLE).
 */
export async function preferOrderedIndexScan(tx: { readonly manager: EntityManager }): Promise<void> {
  await tx.manager.query(
    "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)",
  );
}

/**
 * For the rest of the caller's transaction, the planner looks a batch's rows up by key (primary key, operation id)
 * instead of scanning the table. Measured with `npm run bench -- --scaling 10000,100000,500000`: with statistics as
 * stale as they are while a campaign is inserted (see `preferOrderedIndexScan`; `operation_id` is NULL in every
 * row autoanalyze last saw), a batch of status updates read `email_notifications` sequentially: 122 / 959 / 3 995
 * rows per notification at 10 000 / 100 000 / 500 000 recipients. Bitmap scans stay allowed: a BitmapOr of exact
 * key lookups reads only the keys asked for.
 */
export async function preferPrimaryKeyLookups(tx: { readonly manager: EntityManager }): Promise<void> {
  await tx.manager.query(
    `SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true),
            set_config('enable_mergejoin', 'off', true)`,
  );
}
