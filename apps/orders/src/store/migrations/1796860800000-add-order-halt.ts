import { type MigrationInterface, type QueryRunner } from 'typeorm';

const EMAIL_RESULTS_BEFORE = [
  'New',
  'Sending',
  'Succeeded',
  'Delivered',
  'Failed',
  'Failed_RecipientReserved',
  'Failed_RecipientNotIdentified',
  'Failed_InvalidEmailFormat',
  'Failed_SupressedRecipient',
  'Failed_TransientError',
  'Failed_Bounced',
  'Failed_FilteredSpam',
  'Failed_Quarantined',
  'Failed_TTL',
];
const inList = (results: readonly string[]): string => results.map((result) => `'${result}'`).join(', ');

/**
 * Halting an order mid-flight (README "Halt"): `orders.halted_at` marks a halted order (it ends `Cancelled` once
 * every notification is final), `Cancelled` becomes a notification result (an email of a halted order that was
 * never sent), and `outbox.headers` carries extra Kafka headers of a row (the `x-order-id` of each `email.queue`
 * record, which email-sender needs to withhold the emails of a halted order; the reference payload has no room).
 */
export class AddOrderHalt1796860800000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders ADD COLUMN halted_at timestamptz');
    await queryRunner.query(
      'ALTER TABLE email_notifications DROP CONSTRAINT email_notifications_result_check',
    );
    await queryRunner.query(
      `ALTER TABLE email_notifications ADD CONSTRAINT email_notifications_result_check
         CHECK (result IN (${inList([...EMAIL_RESULTS_BEFORE, 'Cancelled'])}))`,
    );
    await queryRunner.query('ALTER TABLE outbox ADD COLUMN headers text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox DROP COLUMN headers');
    // A Cancelled notification has no older name: it becomes Failed, final as it was.
    await queryRunner.query(`UPDATE email_notifications SET result = 'Failed' WHERE result = 'Cancelled'`);
    await queryRunner.query(
      'ALTER TABLE email_notifications DROP CONSTRAINT email_notifications_result_check',
    );
    await queryRunner.query(
      `ALTER TABLE email_notifications ADD CONSTRAINT email_notifications_result_check
         CHECK (result IN (${inList(EMAIL_RESULTS_BEFORE)}))`,
    );
    await queryRunner.query('ALTER TABLE orders DROP COLUMN halted_at');
  }
}
