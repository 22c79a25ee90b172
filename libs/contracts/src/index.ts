export { type ContractIssue, ContractViolationError } from './lib/contract-violation.error';
export { type MessageContract } from './lib/message-contract';
export { toDate, formatTimestamp, isTimestamp } from './lib/timestamp';
export {
  EmailContentType,
  EmailSendResult,
  EmailNotificationResultType,
  OrderProcessingStatus,
  isFinalOrderStatus,
  NotificationChannel,
  SendingTimePolicy,
  OrderType,
  GenericServiceUpdateSchema,
  ServiceUpdateSource,
} from './lib/enums';
export { type Email, EmailContract } from './lib/messages/email.contract';
export {
  type SendNotificationOperationIdentifier,
  SendNotificationOperationIdentifierContract,
} from './lib/messages/send-notification-operation-identifier.contract';
export {
  type SendOperationResult,
  SendOperationResultContract,
} from './lib/messages/send-operation-result.contract';
export {
  type GenericServiceUpdate,
  type ResourceLimitExceeded,
  GenericServiceUpdateContract,
  EMAIL_SERVICE_UPDATE_SOURCE,
  ACS_EMAIL_RESOURCE,
  resourceLimitExceeded,
  parseResourceLimitExceeded,
} from './lib/messages/generic-service-update.contract';
export {
  type NotificationOrder,
  type NotificationTemplate,
  type EmailTemplate,
  type SmsTemplate,
  type AddressPoint,
  type EmailAddressPoint,
  type SmsAddressPoint,
  type Recipient,
  type Creator,
  NotificationOrderContract,
} from './lib/messages/notification-order.contract';
export {
  type OrderHalted,
  OrderHaltedContract,
  type EmailWithheld,
  EmailWithheldContract,
  ORDER_ID_HEADER,
  HALT_PROPAGATION_MS,
} from './lib/messages/order-halt.contract';
export { HealthCheckContract, HEALTH_CHECK_PAYLOAD } from './lib/messages/health-check.contract';
export {
  type TopicDefinition,
  type TopicDefinitionInput,
  type TopicCatalog,
  type ConsumerGroupIds,
  defineTopic,
  defineRetryTopic,
  deadLetterTopicFor,
  retryTopicFor,
  Topics,
  ALL_TOPICS,
  allTopicNames,
  ConsumerGroups,
  consumerGroups,
  CONSUMER_GROUP_PREFIX,
  TOPIC_PREFIXES,
  topicCatalog,
  withTopicSuffix,
} from './lib/topics';
// Operator endpoints' answers (management listener), shared by the apps and the ops CLI.
export {
  EmailSenderRateLimitClearResult,
  EmailSenderRateLimitView,
  InternalApiPaths,
  OperatorOrderPage,
  OperatorOrderSummary,
  OperatorOrderView,
  operatorOrderPath,
  OperatorSubscriptionList,
  OperatorSubscriptionView,
  operatorSubscriptionReplayPath,
  OrdersRateLimitClearResult,
  OrdersRateLimitView,
  OutboxRedriveResult,
  OutboxView,
  SubscriptionReplayResult,
} from './lib/internal-api/internal-api.schemas';
// The orders API's answers (public API; the operator endpoints reuse them), and its progress stream's reader.
export {
  RecipientLookupResponse,
  OrderIdResponse,
  RecipientResponse,
  NotificationOrderResponse,
  StatusResponse,
  HaltedResponse,
  OrderWithStatusResponse,
  EmailNotificationResponse,
  EmailNotificationSummaryResponse,
  OrderListResponse,
  OrderProgressResponse,
  ProblemDetailsResponse,
} from './lib/orders-api/orders-api.schemas';
// The subscriptions resource's answers (public API), and its wire enums.
export {
  SubscriptionEventType,
  SubscriptionStatus,
  KafkaSaslMechanism,
  HttpDestinationResponse,
  KafkaDestinationResponse,
  SubscriptionResponse,
  CreatedSubscriptionResponse,
  SubscriptionListResponse,
} from './lib/orders-api/subscriptions-api.schemas';
export { type SseItem, readServerSentEvents } from './lib/orders-api/server-sent-events';
