import { z } from 'zod';
import { EmailContentType, NotificationChannel, OrderType, SendingTimePolicy } from '../enums';
import { jsonContract, type MessageContract } from '../message-contract';
import {
  nonEmptyString,
  polymorphic,
  wireEnum,
  wireObject,
  wireTimestamp,
  wireUuid,
  wireVariant,
} from '../wire-schema';

// Property order of templates and address points is the reference's (alphabetical after "$").
// `type` / `addressType` repeat what "$" says; absent they default to it, present they must agree with it.

const EmailTemplateSchema = wireVariant('email', {
  body: z.string(),
  contentType: wireEnum(EmailContentType),
  fromAddress: z.string(),
  subject: z.string(),
  type: wireEnum(['Email']).default('Email'),
});

const SmsTemplateSchema = wireVariant('sms', {
  body: z.string(),
  senderNumber: z.string(),
  type: wireEnum(['Sms']).default('Sms'),
});

const NotificationTemplateSchema = polymorphic([EmailTemplateSchema, SmsTemplateSchema]);

const EmailAddressPointSchema = wireVariant('email', {
  addressType: wireEnum(['Email']).default('Email'),
  emailAddress: z.string(),
});

const SmsAddressPointSchema = wireVariant('sms', {
  addressType: wireEnum(['Sms']).default('Sms'),
  mobileNumber: z.string(),
});

const AddressPointSchema = polymorphic([EmailAddressPointSchema, SmsAddressPointSchema]);

const RecipientSchema = wireObject({
  // Always written by the reference; a recipient without addresses has an empty list.
  addressInfo: z.array(AddressPointSchema).default(() => []),
  isReserved: z.boolean().optional(),
  nationalIdentityNumber: z.string().optional(),
  organizationNumber: z.string().optional(),
});

const CreatorSchema = wireObject({
  shortName: nonEmptyString,
});

const NotificationOrderSchema = wireObject({
  id: wireUuid,
  sendersReference: z.string().optional(),
  requestedSendTime: wireTimestamp,
  notificationChannel: wireEnum(NotificationChannel),
  ignoreReservation: z.boolean().optional(),
  resourceId: z.string().optional(),
  conditionEndpoint: z.string().optional(),
  creator: CreatorSchema,
  created: wireTimestamp,
  sendingTimePolicy: wireEnum(SendingTimePolicy).optional(),
  type: wireEnum(OrderType),
  templates: z.array(NotificationTemplateSchema),
  recipients: z.array(RecipientSchema),
});

export type EmailTemplate = z.output<typeof EmailTemplateSchema>;
export type SmsTemplate = z.output<typeof SmsTemplateSchema>;
export type NotificationTemplate = z.output<typeof NotificationTemplateSchema>;
export type EmailAddressPoint = z.output<typeof EmailAddressPointSchema>;
export type SmsAddressPoint = z.output<typeof SmsAddressPointSchema>;
export type AddressPoint = z.output<typeof AddressPointSchema>;
export type Recipient = z.output<typeof RecipientSchema>;
export type Creator = z.output<typeof CreatorSchema>;
/** An order whose send time has come (`orders.pastdue`). */
export type NotificationOrder = z.output<typeof NotificationOrderSchema>;

export const NotificationOrderContract: MessageContract<NotificationOrder> = jsonContract(
  'NotificationOrder',
  NotificationOrderSchema,
);
