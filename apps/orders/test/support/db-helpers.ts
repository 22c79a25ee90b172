import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { UnitOfWork } from '../../src/store/unit-of-work';
import { type NewEmailOrder, type OrderRecipient } from '../../src/domain/order.model';
import { OrderRepository } from '../../src/store/order.repository';

export interface NotificationRow {
  id: string;
  to_address: string | null;
  result: string;
  recipient_key: string;
}

/** Direct reads and writes for arranging and asserting integration tests. */
export class OrdersDb {
  constructor(readonly dataSource: DataSource) {}

  async status(orderId: string): Promise<string | undefined> {
    const rows: { processing_status: string }[] = await this.dataSource.query(
      'SELECT processing_status FROM orders WHERE id = $1',
      [orderId],
    );
    return rows[0]?.processing_status;
  }

  async order(
    orderId: string,
  ): Promise<{ processing_status: string; last_error: string | null; processing_attempts: number }> {
    const rows: { processing_status: string; last_error: string | null; processing_attempts: number }[] =
      await this.dataSource.query(
        'SELECT processing_status, last_error, processing_attempts FROM orders WHERE id = $1',
        [orderId],
      );
    if (rows[0] === undefined) throw new Error(`No order ${orderId}`);
    return rows[0];
  }

  notifications(orderId: string): Promise<NotificationRow[]> {
    return this.dataSource.query(
      'SELECT id, to_address, result, recipient_key FROM email_notifications WHERE order_id = $1 ORDER BY recipient_key',
      [orderId],
    );
  }

  /** Inserts a Registered order directly (no API, no look-up at creation). */
  async insertOrder(recipients: OrderRecipient[], overrides: Partial<NewEmailOrder> = {}): Promise<string> {
    const now = new Date();
    const order: NewEmailOrder = {
      id: randomUUID(),
      creator: 'ttd',
      requestedSendTime: now,
      created: now,
      recipients,
      email: {
        fromAddress: 'noreply@altinn.cloud',
        subject: 'Hello',
        body: 'Hi $recipientName$',
        contentType: 'Plain',
      },
      ...overrides,
    };
    await new UnitOfWork(this.dataSource).run((tx) => new OrderRepository().insert(tx, order));
    return order.id;
  }
}
