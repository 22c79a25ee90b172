import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CONSUMER_GROUP_PREFIX, TOPIC_PREFIXES } from '@notifications/contracts';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type SASLOptions,
} from 'kafkajs';
import { kafkaVersion, paths } from './paths';
import {
  errorMessage,
  ignore,
  isAlive,
  type Log,
  rel,
  rotateLog,
  run,
  seconds,
  sleep,
  spawnDetached,
  tail,
} from './processes';

// Shared by the local broker, the isolated brokers and the isolated clusters: the jars, the server.properties
// template, formatting a KRaft log dir, starting a broker JVM, waiting for it, and the ACLs.

export const KAFKA_HOST = '127.0.0.1';

export interface SaslUser {
  readonly username: string;
  readonly password: string;
}

// SASL users of the local broker (`up --sasl`) and of isolated brokers. SCRAM credentials (SHA-256 and SHA-512)
// are written into the KRaft metadata when a SASL data dir is formatted; PLAIN users are part of the listener's
// JAAS config. `admin` is a super user: it creates the ACLs for the others (tests do that with kafkajs admin).
export const SASL_USERS: readonly SaslUser[] = Object.freeze([
  { username: 'admin', password: 'admin-secret' },
  { username: 'notifications-producer', password: 'producer-secret' },
  { username: 'notifications-consumer', password: 'consumer-secret' },
]);
export const SASL_MECHANISMS: readonly string[] = Object.freeze(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);

/** The cluster as `describeCluster` reports it. */
export interface ClusterDescription {
  readonly brokers: readonly { nodeId: number; host: string; port: number }[];
  readonly controller: number | null;
  readonly clusterId: string;
}

/** Resolves the cluster description, or throws. */
export async function describeCluster(
  brokers: readonly string[],
  options: { timeoutMs?: number; sasl?: SASLOptions } = {},
): Promise<ClusterDescription> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const kafka = new Kafka({
    clientId: 'infra-probe',
    brokers: [...brokers],
    ...(options.sasl ? { sasl: options.sasl } : {}),
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async () => {
        await admin.connect();
        return await admin.describeCluster();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from ${brokers.join(',')} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(ignore);
  }
}

/** The first FindCoordinator creates __consumer_offsets; do it here so the first consumer group joins fast. */
export async function warmUpGroupCoordinator(brokers: readonly string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'infra-warmup',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeGroups(['infra-warmup']);
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(ignore);
  }
}

/** Resolves the broker jars with Maven unless .infra/kafka/libs holds those of the current pom. */
export async function ensureKafkaJars(log: Log): Promise<{ resolved: boolean; ms?: number }> {
  const pomHash = crypto.createHash('sha256').update(fs.readFileSync(paths.pom)).digest('hex');
  const complete = fs.existsSync(paths.kafkaLibsComplete)
    ? fs.readFileSync(paths.kafkaLibsComplete, 'utf8').trim()
    : undefined;
  // Resolve only when .complete is missing, or when it holds the hash of a different pom (kafka.version was
  // edited). An empty .complete (made by hand with `touch`) is trusted as is.
  if (complete === pomHash || complete === '') return { resolved: false };
  const t0 = Date.now();
  log(`resolving Kafka ${kafkaVersion()} jars with Maven into ${rel(paths.kafkaLibs)} ...`);
  fs.rmSync(paths.kafkaLibs, { recursive: true, force: true });
  fs.mkdirSync(paths.kafkaLibs, { recursive: true });
  await run('mvn', [
    '-B',
    '-q',
    '-f',
    paths.pom,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${paths.kafkaLibs}`,
  ]);
  fs.writeFileSync(paths.kafkaLibsComplete, `${pomHash}\n`);
  log(`jars resolved in ${seconds(Date.now() - t0)}`);
  return { resolved: true, ms: Date.now() - t0 };
}

function javaBin(): string {
  return process.env['JAVA_HOME'] ? path.join(process.env['JAVA_HOME'], 'bin', 'java') : 'java';
}

function log4jArgs(): string[] {
  return [`-Dlog4j2.configurationFile=${paths.log4j2}`];
}

export type ServerOverrides = Map<string, string>;

/**
 * server.properties overrides of a broker with a SASL_PLAINTEXT listener (SCRAM-SHA-256/512 and PLAIN users) and
 * the KRaft ACL authorizer. `listeners` are the full listener strings (PLAINTEXT, CONTROLLER, SASL_PLAINTEXT).
 */
export function saslOverrides(options: {
  listeners: readonly string[];
  users: readonly SaslUser[];
  superUsers: readonly string[];
  saslListeners?: readonly string[];
}): ServerOverrides {
  const { listeners, users, superUsers, saslListeners = ['sasl_plaintext'] } = options;
  const overrides: ServerOverrides = new Map();
  const plainUsers = users.map((u) => `user_${u.username}="${u.password}"`).join(' ');
  overrides.set('listeners', listeners.join(','));
  overrides.set('advertised.listeners', listeners.join(','));
  overrides.set('sasl.enabled.mechanisms', SASL_MECHANISMS.join(','));
  for (const listener of saslListeners) {
    overrides.set(
      `listener.name.${listener}.plain.sasl.jaas.config`,
      `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    );
    for (const mechanism of ['scram-sha-256', 'scram-sha-512']) {
      overrides.set(
        `listener.name.${listener}.${mechanism}.sasl.jaas.config`,
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      );
    }
  }
  // KRaft ACLs (stored in the metadata log). ANONYMOUS is the principal of every PLAINTEXT connection:
  // the plain client listener, broker -> controller on the CONTROLLER listener, and inter-broker traffic.
  // Making it a super user keeps those paths (and the plain-listener tests) working unchanged.
  overrides.set('authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
  overrides.set('super.users', superUsers.map((u) => `User:${u}`).join(';'));
  overrides.set('allow.everyone.if.no.acl.found', 'false');
  return overrides;
}

/** key=value overrides on top of the template; keys not in the template are appended. */
export function writeServerProperties(options: {
  file: string;
  dataDir: string;
  overrides: ServerOverrides;
  label: string;
}): string {
  const { file, dataDir, overrides, label } = options;
  const seen = new Set<string>();
  const lines = fs
    .readFileSync(paths.serverTemplate, 'utf8')
    .split('\n')
    .map((line) => {
      const key = /^\s*([A-Za-z0-9_.-]+)\s*=/.exec(line)?.[1];
      const value = key === undefined ? undefined : overrides.get(key);
      if (key !== undefined && value !== undefined) {
        seen.add(key);
        return `${key}=${value}`;
      }
      return line.replaceAll('@DATA_DIR@', dataDir);
    });
  const extra = [...overrides].filter(([key]) => !seen.has(key));
  if (extra.length) {
    lines.push(
      '',
      '############################# Overrides (SASL, ACLs, cluster) #############################',
    );
    for (const [key, value] of extra) lines.push(`${key}=${value}`);
  }
  fs.writeFileSync(
    file,
    `# GENERATED by libs/dev-infra from tools/kafka/server.properties (${label}); edit the template\n` +
      lines.join('\n') +
      '\n',
  );
  return file;
}

/**
 * A new KRaft cluster id: 16 random bytes in base64url, never starting with '-' — the storage tool's argument
 * parser would read such an id as an option and refuse to format (1 id in 64); Kafka's own `Uuid.randomUuid()`
 * skips those ids for the same reason.
 */
export function newClusterId(): string {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** (Re)creates a KRaft log dir with a new (or the given: nodes of one cluster) cluster id and SCRAM credentials. */
export async function formatDataDir(options: {
  dataDir: string;
  config: string;
  users: readonly SaslUser[];
  clusterId?: string;
}): Promise<string> {
  const { dataDir, config, users, clusterId = newClusterId() } = options;
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const args = [
    ...log4jArgs(),
    '-cp',
    path.join(paths.kafkaLibs, '*'),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    config,
  ];
  for (const user of users) {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      args.push('--add-scram', `${mechanism}=[name="${user.username}",password="${user.password}"]`);
    }
  }
  await run(javaBin(), args);
  return clusterId;
}

/** Starts `kafka.Kafka <config>` detached (it outlives this process), logging to `logFile`; resolves its pid. */
export async function spawnBroker(options: {
  config: string;
  logFile: string;
  cwd: string;
  label: string;
}): Promise<number> {
  const { config, logFile, cwd, label } = options;
  rotateLog(logFile);
  fs.appendFileSync(
    logFile,
    `\n===== dev-infra: starting broker (${label}) at ${new Date().toISOString()} =====\n`,
  );
  const heap = (process.env['KAFKA_HEAP_OPTS'] ?? '-Xms256m -Xmx512m').split(/\s+/).filter(Boolean);
  const extra = (process.env['KAFKA_OPTS'] ?? '').split(/\s+/).filter(Boolean);
  return spawnDetached({
    command: javaBin(),
    args: [
      ...heap,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      ...log4jArgs(),
      ...extra,
      '-cp',
      path.join(paths.kafkaLibs, '*'),
      'kafka.Kafka',
      config,
    ],
    cwd,
    logFile,
  });
}

/** Resolves the cluster description once the broker (pid) accepts clients on `brokers`. */
export async function waitForBroker(
  pid: number,
  timeoutMs: number,
  options: { brokers: string; logFile: string },
): Promise<ClusterDescription> {
  const { brokers, logFile } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new Error(
        `Kafka broker (pid ${pid}) exited during startup. Tail of ${rel(logFile)}:\n${tail(logFile)}`,
      );
    }
    try {
      return await describeCluster([brokers], { timeoutMs: 3000 });
    } catch (error) {
      lastError = error;
      await sleep(250);
    }
  }
  throw new Error(
    `Kafka broker (pid ${pid}) did not accept clients within ${seconds(timeoutMs)} (${errorMessage(lastError)}). ` +
      `Tail of ${rel(logFile)}:\n${tail(logFile)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// ACLs

export type AclResource = 'TOPIC' | 'GROUP';
export type AclOperation = 'CREATE' | 'DESCRIBE' | 'DESCRIBE_CONFIGS' | 'WRITE' | 'READ';

export interface Acl {
  /** Without the `User:` prefix. */
  readonly principal: string;
  readonly resourceType: AclResource;
  readonly name: string;
  readonly operation: AclOperation;
  /** Default PREFIXED. */
  readonly pattern?: 'PREFIXED' | 'LITERAL';
  /** Default `*`. */
  readonly host?: string;
}

/**
 * The ACLs the notification principals need, all PREFIXED on the prefixes libs/contracts names every topic and
 * consumer group with (docs/security.md lists them for the cluster operator): admin CREATE + DESCRIBE +
 * DESCRIBE_CONFIGS on the topic prefixes (provisioning, the leader wait and the drift check); producer WRITE
 * (implies DESCRIBE; since Kafka 3.0 it also allows the idempotent producer's InitProducerId); consumer READ on
 * the topic prefixes and on the group prefix (both imply DESCRIBE). Nobody but admin may create topics; nobody
 * may delete or alter them.
 */
export function notificationsAcls(
  principals: { admin?: string; producer?: string; consumer?: string } = {},
): Acl[] {
  const {
    admin = 'admin',
    producer = 'notifications-producer',
    consumer = 'notifications-consumer',
  } = principals;
  const acls: Acl[] = [];
  for (const prefix of TOPIC_PREFIXES) {
    for (const operation of ['CREATE', 'DESCRIBE', 'DESCRIBE_CONFIGS'] as const) {
      acls.push({ principal: admin, resourceType: 'TOPIC', name: prefix, operation });
    }
    acls.push({ principal: producer, resourceType: 'TOPIC', name: prefix, operation: 'WRITE' });
    acls.push({ principal: consumer, resourceType: 'TOPIC', name: prefix, operation: 'READ' });
  }
  acls.push({ principal: consumer, resourceType: 'GROUP', name: CONSUMER_GROUP_PREFIX, operation: 'READ' });
  return acls;
}

const RESOURCE_TYPES: Record<AclResource, AclResourceTypes> = {
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
};
const OPERATIONS: Record<AclOperation, AclOperationTypes> = {
  CREATE: AclOperationTypes.CREATE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  DESCRIBE_CONFIGS: AclOperationTypes.DESCRIBE_CONFIGS,
  WRITE: AclOperationTypes.WRITE,
  READ: AclOperationTypes.READ,
};

/**
 * Creates ALLOW ACLs through `brokers` (a listener whose principal may alter ACLs: the isolated broker's PLAINTEXT
 * listener, where ANONYMOUS is a super user), then waits until the broker serves them: the controller commits ACLs
 * a moment before the broker's authorizer applies the metadata record.
 */
export async function createAcls(
  brokers: readonly string[],
  acls: readonly Acl[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (acls.length === 0) return;
  const kafka = new Kafka({
    clientId: 'infra-acls',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: acls.map((acl) => ({
        resourceType: RESOURCE_TYPES[acl.resourceType],
        resourceName: acl.name,
        resourcePatternType:
          acl.pattern === 'LITERAL' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
        principal: `User:${acl.principal}`,
        host: acl.host ?? '*',
        operation: OPERATIONS[acl.operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { resources } = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      const served = resources.reduce((n, resource) => n + resource.acls.length, 0);
      if (served >= acls.length) return;
      if (Date.now() > deadline)
        throw new Error(`the broker serves ${served} of ${acls.length} ACLs after ${timeoutMs} ms`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect().catch(ignore);
  }
}
