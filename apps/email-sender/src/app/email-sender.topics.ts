import {
  Topics,
  type Email,
  type GenericServiceUpdate,
  type SendNotificationOperationIdentifier,
  type SendOperationResult,
  type TopicCatalog,
  type TopicDefinition,
} from '@notifications/contracts';

/** The topics email-sender reads and writes. Injectable, so tests and benchmarks can use throw-away topics. */
export interface EmailSenderTopics {
  /** Consumed together with its retry topic (`retryTopic`). */
  readonly emailQueue: TopicDefinition<Email>;
  readonly emailSendingAccepted: TopicDefinition<SendNotificationOperationIdentifier>;
  readonly emailStatusUpdated: TopicDefinition<SendOperationResult>;
  readonly platformServiceUpdated: TopicDefinition<GenericServiceUpdate>;
  readonly emailHealthCheck: TopicDefinition<string>;
}

/** The app's topics out of a catalog (the reference names, or a suffixed catalog from `topicCatalog`). */
export function emailSenderTopics(catalog: TopicCatalog = Topics): EmailSenderTopics {
  return Object.freeze({
    emailQueue: catalog.emailQueue,
    emailSendingAccepted: catalog.emailSendingAccepted,
    emailStatusUpdated: catalog.emailStatusUpdated,
    platformServiceUpdated: catalog.platformServiceUpdated,
    emailHealthCheck: catalog.emailHealthCheck,
  });
}

export const DEFAULT_EMAIL_SENDER_TOPICS: EmailSenderTopics = emailSenderTopics();

export const EMAIL_SENDER_TOPICS = Symbol('EMAIL_SENDER_TOPICS');
