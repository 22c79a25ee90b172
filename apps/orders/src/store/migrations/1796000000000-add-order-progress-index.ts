import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Progress snapshots (`GET /orders/{id}/progress`) count an order's notifications per result and the ones that
 * became final recently. With (order_id, result) as the key and result_time carried along, that is one
 * index-only range scan of the order's entries, never a read of the table rows (whose texts and addresses make
 * them wide); the statuses already change every index entry of a row (result is in partial-index predicates,
 * so those updates are not HOT), so this index adds one entry per change, not a different write path.
 *
 * Built CONCURRENTLY, outside a transaction (migrations run one transaction each; this one opts out): on a
 * deployed database the table keeps taking writes while the index is built.
 */
export class AddOrderProgressIndex1796000000000 implements MigrationInterface {
  readonly transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A concurrent build that failed leaves an invalid index behind; this migration was then not recorded.
    await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS email_notifications_order_progress');
    await queryRunner.query(
      'CREATE INDEX CONCURRENTLY email_notifications_order_progress ON email_notifications (order_id, result) INCLUDE (result_time)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // TypeORM reverts in a transaction whatever `transaction` says, where CONCURRENTLY is refused.
    await queryRunner.query('DROP INDEX IF EXISTS email_notifications_order_progress');
  }
}
