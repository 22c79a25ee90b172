import {
  Topics,
  type Email,
  type GenericServiceUpdate,
  type SendNotificationOperationIdentifier,
  type SendOperationResult,
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

export const DEFAULT_EMAIL_SENDER_TOPICS: EmailSenderTopics = Object.freeze({
  emailQueue: Topics.emailQueue,
  emailSendingAccepted: Topics.emailSendingAccepted,
  emailStatusUpdated: Topics.emailStatusUpdated,
  platformServiceUpdated: Topics.platformServiceUpdated,
  emailHealthCheck: Topics.emailHealthCheck,
});

export const EMAIL_SENDER_TOPICS = Symbol('EMAIL_SENDER_TOPICS');
