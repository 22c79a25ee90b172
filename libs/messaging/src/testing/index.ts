// Test support for code that uses Kafka (`@notifications/messaging/testing`): a test's own topics on the real
// broker, raw produce, readers and offset look-ups. Here rather than in libs/testing because it creates topics the
// way the runtime does (waitForTopicLeaders), and libs/messaging's own tests use libs/testing.
export * from './kafka-test-environment';
