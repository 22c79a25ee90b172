import { describeCluster, SASL_MECHANISMS, SASL_USERS } from './kafka-broker';
import { type ListedIsolatedBroker, listIsolatedBrokers, reapIsolatedBrokers } from './isolated-broker';
import { reapIsolatedClusters } from './isolated-cluster';
import {
  externalBrokers,
  findBroker,
  kafkaDown,
  type KafkaDownResult,
  kafkaUp,
  type KafkaUpResult,
  LOCAL_KAFKA_BROKERS,
  LOCAL_KAFKA_SASL_BROKERS,
  runningBrokerVersion,
} from './local-broker';
import { type KafkaMode, paths } from './paths';
import {
  databaseUrl,
  embeddedPostgresRunning,
  parseDatabaseUrl,
  postgresDown,
  type PostgresDownResult,
  postgresUp,
  type PostgresUpResult,
  redact,
} from './postgres';
import { envFlag, envInt, ignore, type Log, rel, seconds, tcpAnswers, withLock } from './processes';

export interface UpOptions {
  /**
   * Also open SASL_PLAINTEXT://127.0.0.1:9094 with SCRAM/PLAIN users and the ACL authorizer (default: env
   * KAFKA_SASL).
   */
  readonly sasl?: boolean;
  /** false skips the broker. */
  readonly kafka?: boolean;
  /** false skips PostgreSQL. */
  readonly postgres?: boolean;
  readonly timeoutMs?: number;
  /** No console output. */
  readonly quiet?: boolean;
}

export interface UpResult {
  readonly kafka: KafkaUpResult | undefined;
  readonly postgres: PostgresUpResult | undefined;
}

export interface DownOptions {
  readonly kafka?: boolean;
  readonly postgres?: boolean;
  readonly quiet?: boolean;
}

export interface DownResult {
  readonly kafka: KafkaDownResult | undefined;
  readonly postgres: PostgresDownResult | undefined;
}

export interface KafkaStatus {
  readonly managed: boolean;
  readonly brokers: string;
  readonly answering: boolean;
  readonly running?: boolean;
  readonly pid?: number;
  readonly mode?: KafkaMode;
  readonly version?: string;
  readonly saslBrokers?: string;
  readonly dataDir?: string;
  readonly log?: string;
  readonly isolated: readonly ListedIsolatedBroker[];
}

export interface PostgresStatus {
  readonly url: string;
  readonly answering: boolean;
  readonly embedded?: { pid: number; port: number | undefined; dataDir: string; log: string };
}

export interface StatusResult {
  readonly kafka?: KafkaStatus;
  readonly postgres?: PostgresStatus;
}

function sayer(quiet: boolean): Log {
  return quiet ? ignore : (message) => console.log(message);
}

async function reapOrphans(say: Log): Promise<void> {
  await reapIsolatedBrokers({ log: (m) => say(`[kafka] ${m}`) });
  await reapIsolatedClusters({ log: (m) => say(`[kafka] ${m}`) });
}

/** Starts (or reuses) the local infrastructure: the broker and PostgreSQL. */
export async function up(options: UpOptions = {}): Promise<UpResult> {
  const {
    sasl = envFlag('KAFKA_SASL'),
    kafka = true,
    postgres = true,
    timeoutMs = envInt('KAFKA_START_TIMEOUT_MS', 120_000),
    quiet = false,
  } = options;
  const say = sayer(quiet);
  if (kafka) await reapOrphans(say);
  return withLock(paths.lock, async () => {
    const [k, p] = await Promise.all([
      kafka ? kafkaUp({ sasl, timeoutMs, log: (m) => say(`[kafka] ${m}`) }) : undefined,
      postgres ? postgresUp({ log: (m) => say(`[postgres] ${m}`) }) : undefined,
    ]);
    const result: UpResult = { kafka: k, postgres: p };
    if (!quiet) printUp(result);
    return result;
  });
}

/**
 * What `up` started itself, i.e. what the caller stops again with `down` when it is done (`npm start`, `npm test`,
 * the benchmarks): never a broker or database it found running (the developer's own, another command's, an
 * external cluster), which outlives the command.
 */
export function startedByUp(result: UpResult): { readonly kafka: boolean; readonly postgres: boolean } {
  return {
    kafka: result.kafka?.managed === true && result.kafka.action.startsWith('started'),
    postgres: result.postgres?.embedded === true && result.postgres.action.startsWith('started'),
  };
}

/** Stops the local broker and an embedded PostgreSQL started by `up` (never a server we did not start). */
export async function down(options: DownOptions = {}): Promise<DownResult> {
  const { kafka = true, postgres = true, quiet = false } = options;
  const say = sayer(quiet);
  if (kafka) await reapOrphans(say);
  return withLock(paths.lock, async () => {
    const [k, p] = await Promise.all([
      kafka ? kafkaDown((m) => say(`[kafka] ${m}`)) : undefined,
      postgres ? postgresDown((m) => say(`[postgres] ${m}`)) : undefined,
    ]);
    if (k) {
      say(
        k.stopped
          ? `kafka     stopped broker pid ${k.pid} (${k.mode}) in ${seconds(k.ms ?? 0)}${k.killed ? ' (SIGKILL)' : ''}`
          : 'kafka     no local broker running',
      );
    }
    if (p) {
      say(
        p.stopped
          ? `postgres  stopped embedded PostgreSQL pid ${p.pid} in ${seconds(p.ms ?? 0)}${p.killed ? ' (SIGKILL)' : ''}`
          : 'postgres  no embedded PostgreSQL running (servers not started by dev-infra are left alone)',
      );
    }
    return { kafka: k, postgres: p };
  });
}

async function kafkaStatus(say: Log): Promise<KafkaStatus> {
  const isolated = listIsolatedBrokers();
  const external = externalBrokers();
  let status: KafkaStatus;
  if (external) {
    const answering = await describeCluster(external, { timeoutMs: 3000 }).then(
      () => true,
      () => false,
    );
    status = { managed: false, brokers: external.join(','), answering, isolated };
    say(
      `kafka     ${external.join(',')} (KAFKA_BROKERS, external): ${answering ? 'answering' : 'NOT answering'}`,
    );
  } else {
    const broker = findBroker();
    const answering = broker
      ? await describeCluster([LOCAL_KAFKA_BROKERS], { timeoutMs: 3000 }).then(
          () => true,
          () => false,
        )
      : false;
    status = {
      managed: true,
      running: broker !== undefined,
      answering,
      brokers: LOCAL_KAFKA_BROKERS,
      log: paths.kafkaLog,
      isolated,
      ...(broker
        ? {
            pid: broker.pid,
            mode: broker.mode,
            version: runningBrokerVersion(),
            dataDir: paths.kafkaData[broker.mode],
            ...(broker.mode === 'sasl' ? { saslBrokers: LOCAL_KAFKA_SASL_BROKERS } : {}),
          }
        : {}),
    };
    if (!broker) {
      say('kafka     local broker not running');
    } else {
      say(
        `kafka     ${status.brokers}${status.saslBrokers ? ` + SASL ${status.saslBrokers}` : ''}: pid ${broker.pid}, ` +
          `Kafka ${status.version}, ${broker.mode} mode, ${answering ? 'answering' : 'NOT answering'}`,
      );
      say(`          data ${rel(paths.kafkaData[broker.mode])}, log ${rel(paths.kafkaLog)}`);
    }
  }
  for (const b of isolated) {
    say(
      `          isolated broker ${b.id}: ${b.brokers} + SASL ${b.saslBrokers}, pid ${b.pid ?? '-'} ` +
        `${b.running ? 'running' : 'NOT running'}, owner ${b.owner} ${b.ownerAlive ? 'alive' : 'gone'}`,
    );
  }
  return status;
}

async function postgresStatus(say: Log): Promise<PostgresStatus> {
  const url = databaseUrl();
  const target = parseDatabaseUrl(url);
  const embedded = embeddedPostgresRunning();
  const answering = await tcpAnswers(target.host, target.port);
  say(`postgres  ${redact(url)}: ${answering ? 'answering' : 'NOT answering'}`);
  say(
    embedded
      ? `          embedded PostgreSQL pid ${embedded.pid} on port ${embedded.port}, data ${rel(paths.postgresData)}, log ${rel(paths.postgresLog)}`
      : '          no embedded PostgreSQL running',
  );
  return {
    url,
    answering,
    ...(embedded ? { embedded: { ...embedded, dataDir: paths.postgresData, log: paths.postgresLog } } : {}),
  };
}

/** Reports what is running (no side effects). */
export async function status(options: DownOptions = {}): Promise<StatusResult> {
  const { kafka = true, postgres = true, quiet = false } = options;
  const say = sayer(quiet);
  const kafkaResult = kafka ? await kafkaStatus(say) : undefined;
  const postgresResult = postgres ? await postgresStatus(say) : undefined;
  return {
    ...(kafkaResult ? { kafka: kafkaResult } : {}),
    ...(postgresResult ? { postgres: postgresResult } : {}),
  };
}

function printUp({ kafka, postgres }: UpResult): void {
  const lines: string[] = [];
  if (kafka) {
    if (!kafka.managed) {
      lines.push(
        `kafka     ${kafka.brokers}  (KAFKA_BROKERS, external; cluster ${kafka.clusterId}; no local broker)`,
      );
    } else {
      lines.push(
        `kafka     ${kafka.brokers} PLAINTEXT  (Kafka ${kafka.version}, pid ${kafka.pid}, ${kafka.action}, ready in ${seconds(kafka.ms ?? 0)})`,
      );
      if (kafka.saslBrokers) {
        lines.push(
          `          ${kafka.saslBrokers} SASL_PLAINTEXT  (${SASL_MECHANISMS.join(', ')}; users ${SASL_USERS.map((u) => u.username).join(', ')}; ACL authorizer on, notification ACLs)`,
        );
      }
      if (kafka.dataDir && kafka.log)
        lines.push(`          data ${rel(kafka.dataDir)}, log ${rel(kafka.log)}`);
    }
  }
  if (postgres) {
    const what = postgres.embedded ? `embedded pid ${postgres.pid}, ${postgres.action}` : postgres.action;
    lines.push(
      `postgres  ${redact(postgres.url)}  (${what}; database "${postgres.database}" ${postgres.databaseCreated ? 'created' : 'exists'})`,
    );
    if (postgres.dataDir && postgres.log)
      lines.push(`          data ${rel(postgres.dataDir)}, log ${rel(postgres.log)}`);
  }
  console.log(lines.join('\n'));
}
