import fs from 'node:fs';
import path from 'node:path';

// libs/dev-infra/{src,dist}/lib → the workspace root.
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const TOOLS = path.join(ROOT, 'tools', 'kafka');
const INFRA = path.join(ROOT, '.infra');
const KDIR = path.join(INFRA, 'kafka');

export type KafkaMode = 'plain' | 'sasl';

/**
 * Everything generated lives under .infra/ (git-ignored):
 *   .infra/kafka/libs/            broker jars (mvn dependency:copy-dependencies of tools/kafka/pom.xml)
 *   .infra/kafka/data/            KRaft log dir of the plain broker       (kept across restarts)
 *   .infra/kafka/data-sasl/       KRaft log dir of the SASL broker        (kept across restarts)
 *   .infra/kafka/server*.properties  rendered from tools/kafka/server.properties
 *   .infra/kafka/broker.pid|.json|.log
 *   .infra/kafka-isolated/<id>/   isolated test brokers (data, server.properties, broker.log, broker.json); deleted
 *                                 when the broker is stopped
 *   .infra/kafka-clusters/<id>/   isolated three-broker clusters (cluster.json, node-<n>/{data,server.properties,
 *                                 broker.log}); deleted when the cluster is stopped
 *   .infra/postgres/              data dir of the embedded PostgreSQL (postmaster.pid is written by postgres)
 *   .infra/postgres.log
 *   .infra/postgres-isolated/<id>/  isolated test PostgreSQL servers (data, postgres.json, postgres.log)
 */
export const paths = {
  root: ROOT,
  infra: INFRA,
  kafkaDir: KDIR,
  kafkaLibs: path.join(KDIR, 'libs'),
  kafkaLibsComplete: path.join(KDIR, 'libs', '.complete'),
  kafkaData: { plain: path.join(KDIR, 'data'), sasl: path.join(KDIR, 'data-sasl') } satisfies Record<
    KafkaMode,
    string
  >,
  kafkaConfig: {
    plain: path.join(KDIR, 'server.properties'),
    sasl: path.join(KDIR, 'server-sasl.properties'),
  } satisfies Record<KafkaMode, string>,
  kafkaSaslUsersStamp: path.join(KDIR, 'data-sasl.users'),
  kafkaPid: path.join(KDIR, 'broker.pid'),
  kafkaState: path.join(KDIR, 'broker.json'),
  kafkaLog: path.join(KDIR, 'broker.log'),
  kafkaIsolated: path.join(INFRA, 'kafka-isolated'),
  kafkaClusters: path.join(INFRA, 'kafka-clusters'),
  pom: path.join(TOOLS, 'pom.xml'),
  serverTemplate: path.join(TOOLS, 'server.properties'),
  log4j2: path.join(TOOLS, 'log4j2.properties'),
  postgresData: path.join(INFRA, 'postgres'),
  postgresPid: path.join(INFRA, 'postgres', 'postmaster.pid'),
  postgresLog: path.join(INFRA, 'postgres.log'),
  postgresIsolated: path.join(INFRA, 'postgres-isolated'),
  lock: path.join(INFRA, '.lock'),
} as const;

/** The Kafka version of tools/kafka/pom.xml (the jars the brokers run). */
export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(paths.pom, 'utf8'));
  return match?.[1] ?? 'unknown';
}
