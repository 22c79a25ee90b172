import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  createAcls,
  describeCluster,
  ensureKafkaJars,
  formatDataDir,
  KAFKA_HOST,
  notificationsAcls,
  SASL_USERS,
  saslOverrides,
  spawnBroker,
  waitForBroker,
  warmUpGroupCoordinator,
  writeServerProperties,
} from './kafka-broker';
import { type KafkaMode, kafkaVersion, paths } from './paths';
import {
  cmdline,
  envInt,
  errorMessage,
  isAlive,
  type Log,
  readPid,
  readState,
  rel,
  seconds,
  stopProcess,
  tcpAnswers,
  writeState,
} from './processes';

// The shared local broker: plain (9092) and SASL (9092 + 9094, formatted with the SCRAM users, ACL authorizer on,
// the notification ACLs created at every `up`; admin is also a super user there). Each mode has its own data dir,
// so switching never mixes them. `up --sasl` on a running plain broker restarts it in SASL mode; a plain `up`
// reuses a running SASL broker (its 9092 listener behaves the same: ANONYMOUS is a super user). A dead broker
// (e.g. kill -9 by a fault-injection test) is restarted on its existing data dir by the next `up`.

export const KAFKA_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;
export const KAFKA_SASL_PORT = 9094;
export const LOCAL_KAFKA_BROKERS = `${KAFKA_HOST}:${KAFKA_PORT}`;
export const LOCAL_KAFKA_SASL_BROKERS = `${KAFKA_HOST}:${KAFKA_SASL_PORT}`;

export const LOCAL_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** What broker.json records about the running local broker. */
interface LocalBrokerState {
  readonly pid: number;
  readonly mode: KafkaMode;
  readonly version: string;
  readonly config: string;
  readonly dataDir: string;
  readonly startedAt: string;
}

export interface KafkaUpResult {
  /** False when the broker was not started by this checkout (KAFKA_BROKERS, or another clone's broker). */
  readonly managed: boolean;
  readonly action: string;
  readonly brokers: string;
  readonly clusterId: string;
  readonly pid?: number;
  readonly mode?: KafkaMode;
  readonly version?: string;
  readonly saslBrokers?: string;
  readonly dataDir?: string;
  readonly log?: string;
  readonly ms?: number;
}

export interface KafkaDownResult {
  readonly stopped: boolean;
  readonly pid?: number;
  readonly mode?: KafkaMode;
  readonly killed?: boolean;
  readonly ms?: number;
}

function parseHostPort(entry: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry.trim());
  return match?.[1] !== undefined && match[2] !== undefined
    ? { host: match[1], port: Number(match[2]) }
    : { host: entry.trim(), port: 9092 };
}

/** undefined = use the local broker; otherwise the external broker list of KAFKA_BROKERS. */
export function externalBrokers(): string[] | undefined {
  const raw = process.env['KAFKA_BROKERS']?.trim();
  if (!raw) return undefined;
  const list = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const local = list.some((entry) => {
    const { host, port } = parseHostPort(entry);
    return LOCAL_HOSTS.has(host) && (port === KAFKA_PORT || port === KAFKA_SASL_PORT);
  });
  return local ? undefined : list;
}

export interface RunningBroker {
  readonly pid: number;
  readonly mode: KafkaMode;
  readonly config: string;
}

function brokerIdentity(pid: number): RunningBroker | undefined {
  const args = cmdline(pid);
  if (!args.includes('kafka.Kafka')) return undefined;
  const config = args.find((arg) => arg === paths.kafkaConfig.plain || arg === paths.kafkaConfig.sasl);
  if (!config) return undefined;
  return { pid, mode: config === paths.kafkaConfig.sasl ? 'sasl' : 'plain', config };
}

/** Our broker process, from broker.pid, or else by scanning /proc (pid file lost). */
export function findBroker(): RunningBroker | undefined {
  const pid = readPid(paths.kafkaPid);
  if (isAlive(pid)) {
    const identity = brokerIdentity(pid);
    if (identity) return identity;
  }
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const identity = brokerIdentity(Number(entry));
    if (identity && isAlive(identity.pid)) return identity;
  }
  return undefined;
}

/** The Kafka version the running local broker was started with (its jars may have changed since). */
export function runningBrokerVersion(): string {
  return readState<LocalBrokerState>(paths.kafkaState)?.version ?? kafkaVersion();
}

function renderServerProperties(mode: KafkaMode): string {
  const overrides =
    mode === 'sasl'
      ? saslOverrides({
          listeners: [
            `PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT}`,
            `CONTROLLER://${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}`,
            `SASL_PLAINTEXT://${KAFKA_HOST}:${KAFKA_SASL_PORT}`,
          ],
          users: SASL_USERS,
          superUsers: ['admin', 'ANONYMOUS'],
        })
      : new Map<string, string>();
  return writeServerProperties({
    file: paths.kafkaConfig[mode],
    dataDir: paths.kafkaData[mode],
    overrides,
    label: `mode: ${mode}`,
  });
}

function saslUsersStamp(): string {
  return crypto.createHash('sha256').update(JSON.stringify(SASL_USERS)).digest('hex');
}

function readSaslUsersStamp(): string | undefined {
  try {
    return fs.readFileSync(paths.kafkaSaslUsersStamp, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Formats the mode's data dir unless it already holds a formatted log dir (data survives restarts). */
async function ensureFormatted(mode: KafkaMode, config: string, log: Log): Promise<boolean> {
  const dataDir = paths.kafkaData[mode];
  if (fs.existsSync(path.join(dataDir, 'meta.properties'))) {
    if (mode !== 'sasl' || readSaslUsersStamp() === saslUsersStamp()) return false;
    log(
      `SASL_USERS changed since ${rel(dataDir)} was formatted; re-formatting it (its topics and ACLs are dropped)`,
    );
  }
  const clusterId = await formatDataDir({ dataDir, config, users: mode === 'sasl' ? SASL_USERS : [] });
  if (mode === 'sasl') fs.writeFileSync(paths.kafkaSaslUsersStamp, `${saslUsersStamp()}\n`);
  log(`formatted ${rel(dataDir)} (cluster id ${clusterId})`);
  return true;
}

async function startBroker(mode: KafkaMode, log: Log): Promise<{ pid: number; formatted: boolean }> {
  const config = renderServerProperties(mode);
  const formatted = await ensureFormatted(mode, config, log);
  const pid = await spawnBroker({ config, logFile: paths.kafkaLog, cwd: paths.kafkaDir, label: mode });
  fs.writeFileSync(paths.kafkaPid, `${pid}\n`);
  const state: LocalBrokerState = {
    pid,
    mode,
    version: kafkaVersion(),
    config,
    dataDir: paths.kafkaData[mode],
    startedAt: new Date().toISOString(),
  };
  writeState(paths.kafkaState, state);
  return { pid, formatted };
}

async function stopBrokerProcess(pid: number, log: Log): Promise<boolean> {
  const killed = await stopProcess(pid, {
    timeoutMs: envInt('KAFKA_STOP_TIMEOUT_MS', 30_000),
    label: `Kafka broker (pid ${pid})`,
    log,
  });
  fs.rmSync(paths.kafkaPid, { force: true });
  return killed;
}

/** Starts (or reuses) the local broker, or checks the external one of KAFKA_BROKERS. */
export async function kafkaUp(options: {
  sasl: boolean;
  timeoutMs: number;
  log: Log;
}): Promise<KafkaUpResult> {
  const { sasl, timeoutMs, log } = options;
  const t0 = Date.now();
  const external = externalBrokers();
  if (external) {
    if (sasl) log('KAFKA_BROKERS points at an external cluster: --sasl is ignored (configure SASL there)');
    const cluster = await describeCluster(external, { timeoutMs: Math.min(timeoutMs, 30_000) }).catch(
      (error: unknown) => {
        throw new Error(`KAFKA_BROKERS=${external.join(',')} does not answer: ${errorMessage(error)}`);
      },
    );
    return { managed: false, brokers: external.join(','), clusterId: cluster.clusterId, action: 'external' };
  }

  const want: KafkaMode = sasl ? 'sasl' : 'plain';
  let running = findBroker();
  let action: string;
  if (running && want === 'sasl' && running.mode === 'plain') {
    log(`switching the local broker to SASL mode: stopping the plain broker (pid ${running.pid})`);
    await stopBrokerProcess(running.pid, log);
    running = undefined;
  }
  let pid: number;
  if (running) {
    // A SASL broker serves the same PLAINTEXT listener (ANONYMOUS is a super user), so it satisfies a plain `up`.
    if (want === 'plain' && running.mode === 'sasl')
      log('reusing the running SASL-mode broker (9092 behaves the same)');
    pid = running.pid;
    fs.writeFileSync(paths.kafkaPid, `${pid}\n`);
    action = 'reused';
  } else {
    // A broker this checkout did not start (another clone's, a developer's own) is reused as it is, and left
    // running by `down`, as long as it speaks Kafka and no SASL listener was asked for.
    if (want === 'plain' && (await tcpAnswers(KAFKA_HOST, KAFKA_PORT))) {
      const foreign = await describeCluster([LOCAL_KAFKA_BROKERS], { timeoutMs: 5000 }).catch(
        () => undefined,
      );
      if (foreign) {
        log(
          `using the broker already listening on ${LOCAL_KAFKA_BROKERS} (not started here; it is left running)`,
        );
        return {
          managed: false,
          brokers: LOCAL_KAFKA_BROKERS,
          clusterId: foreign.clusterId,
          action: 'reused (not started by this checkout)',
          ms: Date.now() - t0,
        };
      }
    }
    const ports = [KAFKA_PORT, KAFKA_CONTROLLER_PORT, ...(want === 'sasl' ? [KAFKA_SASL_PORT] : [])];
    for (const port of ports) {
      if (await tcpAnswers(KAFKA_HOST, port)) {
        throw new Error(
          `something not started by libs/dev-infra already listens on ${KAFKA_HOST}:${port}; stop it` +
            (port === KAFKA_PORT ? ', or set KAFKA_BROKERS to use an external broker' : ''),
        );
      }
    }
    const jars = await ensureKafkaJars(log);
    const started = await startBroker(want, log);
    pid = started.pid;
    action = started.formatted ? 'started (new data dir)' : 'started';
    if (jars.resolved && jars.ms !== undefined) action += `, jars resolved in ${seconds(jars.ms)}`;
  }
  const mode = running?.mode ?? want;
  const cluster = await waitForBroker(pid, timeoutMs, {
    brokers: LOCAL_KAFKA_BROKERS,
    logFile: paths.kafkaLog,
  });
  // The notification principals' ACLs (admin is a super user here anyway), so that the apps run against the
  // SASL listener as they would against the real cluster. Creating an existing ACL is a no-op.
  if (mode === 'sasl') await createAcls([LOCAL_KAFKA_BROKERS], notificationsAcls());
  const warm = await warmUpGroupCoordinator([LOCAL_KAFKA_BROKERS]);
  if (!warm) log('warning: the group coordinator was not available yet (consumer groups may take a moment)');
  return {
    managed: true,
    action,
    pid,
    mode,
    version: runningBrokerVersion(),
    brokers: LOCAL_KAFKA_BROKERS,
    ...(mode === 'sasl' ? { saslBrokers: LOCAL_KAFKA_SASL_BROKERS } : {}),
    clusterId: cluster.clusterId,
    dataDir: paths.kafkaData[mode],
    log: paths.kafkaLog,
    ms: Date.now() - t0,
  };
}

/** Stops the local broker this checkout started (never one it did not start). */
export async function kafkaDown(log: Log): Promise<KafkaDownResult> {
  const running = findBroker();
  if (!running) {
    fs.rmSync(paths.kafkaPid, { force: true });
    return { stopped: false };
  }
  const t0 = Date.now();
  const killed = await stopBrokerProcess(running.pid, log);
  return { stopped: true, pid: running.pid, mode: running.mode, killed, ms: Date.now() - t0 };
}
