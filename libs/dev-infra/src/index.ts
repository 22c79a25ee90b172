export {
  up,
  down,
  status,
  startedByUp,
  type UpOptions,
  type UpResult,
  type DownOptions,
  type DownResult,
} from './lib/infra';
export type { StatusResult, KafkaStatus, PostgresStatus } from './lib/infra';
export {
  KAFKA_HOST,
  SASL_MECHANISMS,
  SASL_USERS,
  notificationsAcls,
  createAcls,
  type Acl,
  type SaslUser,
} from './lib/kafka-broker';
export {
  KAFKA_PORT,
  KAFKA_SASL_PORT,
  LOCAL_KAFKA_BROKERS,
  LOCAL_KAFKA_SASL_BROKERS,
  type KafkaUpResult,
  type KafkaDownResult,
} from './lib/local-broker';
export {
  startIsolatedBroker,
  restartIsolatedBroker,
  stopIsolatedBroker,
  reapIsolatedBrokers,
  listIsolatedBrokers,
  userOf,
  type IsolatedBroker,
  type IsolatedBrokerOptions,
  type IsolatedBrokerState,
  type IsolatedBrokerTls,
} from './lib/isolated-broker';
export {
  startIsolatedCluster,
  killClusterBroker,
  restartClusterBroker,
  stopIsolatedCluster,
  reapIsolatedClusters,
  type IsolatedCluster,
  type IsolatedClusterNode,
  type IsolatedClusterOptions,
} from './lib/isolated-cluster';
export {
  DEFAULT_DATABASE_URL,
  startIsolatedPostgres,
  restartIsolatedPostgres,
  stopIsolatedPostgres,
  type IsolatedPostgres,
  type IsolatedPostgresState,
  type PostgresUpResult,
  type PostgresDownResult,
} from './lib/postgres';
export { paths, kafkaVersion } from './lib/paths';
export { freePort, freePorts } from './lib/processes';
