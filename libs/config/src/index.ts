export { ConfigError, type ConfigProblem } from './config.error';
export { DEFAULT_DEV_KEY_FILE, loadOrCreateDevKey, type DevKey } from './dev-key/dev-key';
export { signDevToken, type DevTokenClaims } from './dev-key/dev-token';
export { parseDurationMs } from './duration';
export {
  envBool,
  envDurationMs,
  envEnum,
  envInt,
  envList,
  envString,
  envUrl,
  envValue,
  type EnvParseResult,
  type EnvSchema,
  type IntRange,
  type UrlOptions,
} from './env-schemas';
export { envGroup, loadConfig, type Env, type SettingGroup } from './load-config';
export { isSecretName, redactConfig, REDACTED } from './redact';
export {
  APP_ENVS,
  appEnvSettings,
  isProductionEnv,
  rawAppEnvFields,
  type AppEnv,
} from './settings/app-env.settings';
export { databaseSettings, DEFAULT_DATABASE_URL, type DatabaseSettings } from './settings/database.settings';
export { httpSettings, type HttpSettings } from './settings/http.settings';
export {
  jwtAuthSettings,
  type JwtAuthSettings,
  type JwtAuthSettingsOptions,
  type JwtKeySource,
} from './settings/jwt-auth.settings';
export {
  MANAGEMENT_PORT_OFFSET,
  managementListenerSettings,
  managementSettings,
  OPERATOR_SCOPE,
  operatorAuthSettings,
  type ManagementListenerSettings,
  type ManagementSettings,
} from './settings/management.settings';
export {
  KAFKA_COMPRESSIONS,
  kafkaSettings,
  SASL_MECHANISMS,
  type KafkaCompression,
  type KafkaCredentials,
  type KafkaSaslSettings,
  type KafkaSettingDefaults,
  type KafkaSettings,
  type KafkaTlsSettings,
  type KafkaTopicSettings,
  type SaslMechanism,
} from './settings/kafka.settings';
export {
  LOG_FORMAT_NAMES,
  LOG_LEVEL_NAMES,
  observabilitySettings,
  PINO_LEVELS,
  type LoggingSettings,
  type LogLevelName,
  type ObservabilitySettings,
  type PinoLevel,
  type TracingSettings,
} from './settings/observability.settings';
export {
  ACS_EMULATOR_ACCESS_KEY,
  ACS_EMULATOR_RESOURCE_ID,
  DELIVERY_REPORT_KEY_HEADER,
} from './settings/acs-emulator.settings';
