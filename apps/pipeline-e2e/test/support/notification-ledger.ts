import { isFinal } from './orders-api';

/** Runs one SQL statement against the run's database and resolves to its rows. */
export type RowQuery = <T>(sql: string, parameters: readonly unknown[]) => Promise<T[]>;

export interface NotificationRow {
  readonly id: string;
  readonly orderId: string;
  readonly toAddress: string | null;
  readonly result: string;
}

/**
 * Reads the fate of a run's notifications straight from orders' database: for thousands of notifications one
 * grouped query beats paging the REST API, and the REST API is what the smaller tests use.
 */
export class NotificationLedger {
  constructor(private readonly query: RowQuery) {}

  async countsByResult(orderIds: readonly string[]): Promise<Record<string, number>> {
    const rows = await this.query<{ result: string; count: string }>(
      'SELECT result, count(*) AS count FROM email_notifications WHERE order_id = ANY($1::uuid[]) GROUP BY result',
      [orderIds],
    );
    return Object.fromEntries(rows.map((row) => [row.result, Number(row.count)]));
  }

  /** Notifications not yet final (`New`, `Sending`, `Succeeded`). */
  async pending(orderIds: readonly string[]): Promise<number> {
    const counts = await this.countsByResult(orderIds);
    return Object.entries(counts)
      .filter(([result]) => !isFinal(result))
      .reduce((sum, [, count]) => sum + count, 0);
  }

  async total(orderIds: readonly string[]): Promise<number> {
    const counts = await this.countsByResult(orderIds);
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async rows(orderIds: readonly string[]): Promise<NotificationRow[]> {
    const rows = await this.query<NotificationRow>(
      `SELECT id, order_id AS "orderId", to_address AS "toAddress", result
         FROM email_notifications WHERE order_id = ANY($1::uuid[])`,
      [orderIds],
    );
    return rows;
  }

  async orderStatuses(orderIds: readonly string[]): Promise<Record<string, number>> {
    const rows = await this.query<{ status: string; count: string }>(
      'SELECT processing_status AS status, count(*) AS count FROM orders WHERE id = ANY($1::uuid[]) GROUP BY 1',
      [orderIds],
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }
}
