import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * W3C trace context (JSON of the `traceparent`/`tracestate` headers) remembered where work waits in the database
 * between two steps, so one order's journey stays one trace: the order (written by `POST /orders`, read by the
 * past-due claim), each email notification (written while `orders.pastdue` is processed, read when it is queued
 * for sending) and each outbox row (read by the relay, which publishes with it). Nullable: tracing may be off.
 */
export class AddTraceContext1795305600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders ADD COLUMN trace_context text');
    await queryRunner.query('ALTER TABLE email_notifications ADD COLUMN trace_context text');
    await queryRunner.query('ALTER TABLE outbox ADD COLUMN trace_context text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox DROP COLUMN trace_context');
    await queryRunner.query('ALTER TABLE email_notifications DROP COLUMN trace_context');
    await queryRunner.query('ALTER TABLE orders DROP COLUMN trace_context');
  }
}
