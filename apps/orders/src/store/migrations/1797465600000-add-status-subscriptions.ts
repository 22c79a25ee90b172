import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Status subscriptions (README "Subscriptions"): `subscriptions` holds what a creator asked to be told and where;
 * `subscription_events` holds the events still to deliver, one row per subscription and status change.
 *
 * The events are written by statement-level triggers, in the transaction (and the statement) that changes a
 * notification's `result` or ends an order: every path that changes a status — claims, send results, sweepers,
 * halts, later ones too — records its events without knowing about subscriptions, and a crash can never commit
 * the change without its events (Aidbox's "store the event in the same transaction" delivery, README cites it).
 * A trigger sees the statement's rows as transition tables, so it costs one INSERT … SELECT per statement, not one
 * per row, and it returns at once while no subscription exists.
 */
export class AddStatusSubscriptions1797465600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE subscriptions (
        id uuid PRIMARY KEY,
        creator text NOT NULL,
        description text,
        filter_senders_reference text,
        filter_resource_id text,
        events text[] NOT NULL CHECK (events <@ ARRAY['notification.status', 'order.completed']::text[]),
        -- {"http": {...}} or {"kafka": {...}}, secrets included (never shown: the API writes them only).
        destination jsonb NOT NULL,
        -- {"payload": <string or JSON>, "topic": "..."} or null for the default payload.
        custom jsonb,
        -- Signs HTTP deliveries (HMAC-SHA256); shown once, in the answer to the POST that created it.
        signing_secret text NOT NULL,
        expires timestamptz,
        created timestamptz NOT NULL DEFAULT now(),
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'failed')),
        times_sent bigint NOT NULL DEFAULT 0,
        last_notification timestamptz,
        last_success timestamptz,
        last_failure timestamptz,
        last_failure_reason text,
        fails_counter integer NOT NULL DEFAULT 0,
        -- The destination's back-off: its events are not tried before this time.
        next_attempt_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX subscriptions_creator ON subscriptions (creator)');

    await queryRunner.query(`
      CREATE TABLE subscription_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
        -- Stable across redeliveries: receivers de-duplicate on it.
        event_id uuid NOT NULL DEFAULT gen_random_uuid(),
        type text NOT NULL CHECK (type IN ('notification.status', 'order.completed')),
        order_id uuid NOT NULL,
        senders_reference text,
        notification_id uuid,
        recipient_email text,
        status text NOT NULL,
        status_time timestamptz NOT NULL,
        created timestamptz NOT NULL DEFAULT now()
      )`);
    // A subscription's pending events, oldest first (delivery reads them in this order; deleted once delivered).
    await queryRunner.query(
      'CREATE INDEX subscription_events_pending ON subscription_events (subscription_id, id)',
    );
    await queryRunner.query('CREATE INDEX subscription_events_created ON subscription_events (created)');

    // The subscriptions of an order's creator that want this event type now (filters, expiry).
    const matching = (eventType: string) => `
      JOIN subscriptions s ON s.creator = o.creator
       AND '${eventType}' = ANY (s.events)
       AND (s.filter_senders_reference IS NULL OR s.filter_senders_reference = o.senders_reference)
       AND (s.filter_resource_id IS NULL OR s.filter_resource_id = o.resource_id)
       AND (s.expires IS NULL OR s.expires > now())`;

    await queryRunner.query(`
      CREATE FUNCTION record_notification_created_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM subscriptions) THEN RETURN NULL; END IF;
        INSERT INTO subscription_events
               (subscription_id, type, order_id, senders_reference, notification_id, recipient_email, status, status_time)
        SELECT s.id, 'notification.status', n.order_id, o.senders_reference, n.id, n.to_address, n.result, n.result_time
          FROM created_rows n
          JOIN orders o ON o.id = n.order_id ${matching('notification.status')}
         ORDER BY n.result_time, n.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION record_notification_status_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM subscriptions) THEN RETURN NULL; END IF;
        INSERT INTO subscription_events
               (subscription_id, type, order_id, senders_reference, notification_id, recipient_email, status, status_time)
        SELECT s.id, 'notification.status', n.order_id, o.senders_reference, n.id, n.to_address, n.result, n.result_time
          FROM new_rows n
          JOIN old_rows p ON p.id = n.id AND p.result IS DISTINCT FROM n.result
          JOIN orders o ON o.id = n.order_id ${matching('notification.status')}
         ORDER BY n.result_time, n.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION record_order_completed_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM subscriptions) THEN RETURN NULL; END IF;
        INSERT INTO subscription_events
               (subscription_id, type, order_id, senders_reference, status, status_time)
        SELECT s.id, 'order.completed', o.id, o.senders_reference, o.processing_status, o.status_changed
          FROM new_rows o
          JOIN old_rows p ON p.id = o.id AND p.processing_status IS DISTINCT FROM o.processing_status
           ${matching('order.completed')}
         WHERE o.processing_status IN ('Completed', 'Cancelled', 'SendConditionNotMet')
         ORDER BY o.status_changed, o.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER email_notifications_created_events AFTER INSERT ON email_notifications
        REFERENCING NEW TABLE AS created_rows
        FOR EACH STATEMENT EXECUTE FUNCTION record_notification_created_events()`);
    await queryRunner.query(`
      CREATE TRIGGER email_notifications_status_events AFTER UPDATE ON email_notifications
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION record_notification_status_events()`);
    await queryRunner.query(`
      CREATE TRIGGER orders_completed_events AFTER UPDATE ON orders
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION record_order_completed_events()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER orders_completed_events ON orders');
    await queryRunner.query('DROP TRIGGER email_notifications_status_events ON email_notifications');
    await queryRunner.query('DROP TRIGGER email_notifications_created_events ON email_notifications');
    await queryRunner.query('DROP FUNCTION record_order_completed_events()');
    await queryRunner.query('DROP FUNCTION record_notification_status_events()');
    await queryRunner.query('DROP FUNCTION record_notification_created_events()');
    await queryRunner.query('DROP TABLE subscription_events');
    await queryRunner.query('DROP TABLE subscriptions');
  }
}
