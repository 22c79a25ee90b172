import { type MigrationInterface, type QueryRunner } from 'typeorm';

const ORDER_STATUSES = `'Registered', 'Processing', 'Processed', 'Completed', 'SendConditionNotMet', 'Cancelled'`;
const EMAIL_RESULTS = [
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
]
  .map((result) => `'${result}'`)
  .join(', ');

/**
 * The orders schema. Every claim query has a partial index on exactly the rows it scans, so claims stay cheap
 * however many finished orders and notifications accumulate.
 */
export class CreateOrdersSchema1767225600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE orders (
        id uuid PRIMARY KEY,
        creator text NOT NULL,
        senders_reference text,
        requested_send_time timestamptz NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        notification_channel text NOT NULL DEFAULT 'Email',
        ignore_reservation boolean,
        resource_id text,
        condition_endpoint text,
        order_type text NOT NULL DEFAULT 'Notification',
        recipients jsonb NOT NULL,
        recipient_count integer NOT NULL,
        processing_status text NOT NULL DEFAULT 'Registered' CHECK (processing_status IN (${ORDER_STATUSES})),
        status_changed timestamptz NOT NULL DEFAULT now(),
        not_before timestamptz,
        claimed_at timestamptz,
        processing_attempts integer NOT NULL DEFAULT 0,
        last_error text,
        idempotency_key text,
        request_hash text,
        recipient_lookup jsonb
      )`);
    // Scheduler: due Registered orders, oldest send time first.
    await queryRunner.query(
      `CREATE INDEX orders_registered_due ON orders (requested_send_time) WHERE processing_status = 'Registered'`,
    );
    // Sweeper: Processing orders whose claim went stale.
    await queryRunner.query(
      `CREATE INDEX orders_processing_claimed ON orders (claimed_at) WHERE processing_status = 'Processing'`,
    );
    // Sweeper: Processed orders that may be complete.
    await queryRunner.query(
      `CREATE INDEX orders_processed_changed ON orders (status_changed) WHERE processing_status = 'Processed'`,
    );
    await queryRunner.query(
      `CREATE INDEX orders_creator_senders_reference ON orders (creator, senders_reference) WHERE senders_reference IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX orders_creator_idempotency_key ON orders (creator, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE email_texts (
        order_id uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
        from_address text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        content_type text NOT NULL CHECK (content_type IN ('Plain', 'Html'))
      )`);

    await queryRunner.query(`
      CREATE TABLE email_notifications (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        recipient_key text NOT NULL,
        to_address text,
        national_identity_number text,
        organization_number text,
        recipient_name text,
        is_reserved boolean,
        result text NOT NULL CHECK (result IN (${EMAIL_RESULTS})),
        result_time timestamptz NOT NULL DEFAULT now(),
        created timestamptz NOT NULL DEFAULT now(),
        expiry timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        sending_since timestamptz,
        send_attempts integer NOT NULL DEFAULT 0,
        redrives integer NOT NULL DEFAULT 0,
        operation_id text,
        CONSTRAINT email_notifications_order_recipient UNIQUE (order_id, recipient_key)
      )`);
    // Email publisher: New notifications that are due, in due order.
    await queryRunner.query(
      `CREATE INDEX email_notifications_new_due ON email_notifications (next_attempt_at) WHERE result = 'New'`,
    );
    // Sweeper: notifications stuck in Sending.
    await queryRunner.query(
      `CREATE INDEX email_notifications_sending_since ON email_notifications (sending_since) WHERE result = 'Sending'`,
    );
    // Sweeper: unfinished notifications past their expiry; completion checks: pending notifications of an order.
    await queryRunner.query(
      `CREATE INDEX email_notifications_unfinished_expiry ON email_notifications (expiry) WHERE result IN ('New', 'Sending', 'Succeeded')`,
    );
    await queryRunner.query(
      `CREATE INDEX email_notifications_unfinished_order ON email_notifications (order_id) WHERE result IN ('New', 'Sending', 'Succeeded')`,
    );
    // Status updates that carry only the ACS operation id (delivery reports).
    await queryRunner.query(
      `CREATE INDEX email_notifications_operation_id ON email_notifications (operation_id) WHERE operation_id IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE rate_limit_pauses (
        resource text PRIMARY KEY,
        paused_until timestamptz NOT NULL,
        source text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic text NOT NULL,
        message_key text,
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        available_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        published_at timestamptz
      )`);
    // Relay: unpublished rows that are claimable now.
    await queryRunner.query(
      `CREATE INDEX outbox_unpublished ON outbox (available_at, id) WHERE published_at IS NULL`,
    );
    // Clean-up of published rows past retention.
    await queryRunner.query(
      `CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE contact_points (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        national_identity_number text,
        organization_number text,
        name text,
        email text,
        is_reserved boolean NOT NULL DEFAULT false,
        CHECK ((national_identity_number IS NULL) <> (organization_number IS NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX contact_points_person ON contact_points (national_identity_number) WHERE national_identity_number IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX contact_points_organization ON contact_points (organization_number) WHERE organization_number IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE contact_points');
    await queryRunner.query('DROP TABLE outbox');
    await queryRunner.query('DROP TABLE rate_limit_pauses');
    await queryRunner.query('DROP TABLE email_notifications');
    await queryRunner.query('DROP TABLE email_texts');
    await queryRunner.query('DROP TABLE orders');
  }
}
