import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Progress snapshots (`GET /orders/{id}/progress`) count an order's notifications per result and the ones that
 * became final recently. With (order_id, result) as the key and result_time carried along, that is one
 * index-only range scan of the order's entries, never a read of the table rows (whose texts and addresses make
 * them wide); the statuses already change every index entry of a row (result is in partial-index predicates,
 * so those updates are not HOT), so this index adds one entry per change, not a different write path.
 */
export class AddOrderProgressIndex1796000000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX email_notifications_order_progress ON email_notifications (order_id, result) INCLUDE (result_time)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX email_notifications_order_progress');
  }
}
