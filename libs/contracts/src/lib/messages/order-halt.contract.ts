import { type z } from 'zod';
import { jsonContract, type MessageContract } from '../message-contract';
import { wireObject, wireTimestamp, wireUuid } from '../wire-schema';

// Not the reference's: this project's own messages for halting an order mid-flight (apps/orders README, "Halt").

const OrderHaltedSchema = wireObject({
  orderId: wireUuid,
  haltedAt: wireTimestamp,
});

/** An order was halted (`orders.halted`): no email of it may be sent from now on. */
export type OrderHalted = z.output<typeof OrderHaltedSchema>;

export const OrderHaltedContract: MessageContract<OrderHalted> = jsonContract(
  'OrderHalted',
  OrderHaltedSchema,
);

const EmailWithheldSchema = wireObject({
  notificationId: wireUuid,
  orderId: wireUuid,
});

/** email-sender did not send this email because its order was halted (`email.withheld`). */
export type EmailWithheld = z.output<typeof EmailWithheldSchema>;

export const EmailWithheldContract: MessageContract<EmailWithheld> = jsonContract(
  'EmailWithheld',
  EmailWithheldSchema,
);

/**
 * The Kafka header orders sets on every `email.queue` record: the notification's order id. The `Email` payload is the
 * reference's and carries none; email-sender needs it to withhold the emails of a halted order.
 */
export const ORDER_ID_HEADER = 'x-order-id';

/**
 * How long a halt takes to reach every email-sender replica, as a protocol between the two apps (apps/orders
 * README, "Halt"): before each send, email-sender knows every `orders.halted` record Kafka acknowledged more than
 * this long ago (it refreshes its view in the background instead of asking Kafka per send); orders answers a halt
 * only this long after Kafka acknowledged its record. So a halt is known to every send that starts after its answer.
 */
export const HALT_PROPAGATION_MS = 1_000;
