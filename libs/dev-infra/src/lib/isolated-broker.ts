import fs from 'node:fs';
import path from 'node:path';
import {
  type Acl,
  createAcls,
  ensureKafkaJars,
  formatDataDir,
  KAFKA_HOST,
  notificationsAcls,
  SASL_MECHANISMS,
  SASL_USERS,
  type SaslUser,
  saslOverrides,
  spawnBroker,
  waitForBroker,
  warmUpGroupCoordinator,
  writeServerProperties,
} from './kafka-broker';
import { paths } from './paths';
import {
  assertInstanceName,
  childDirs,
  createThrowawayDir,
  reapOrphans,
  throwawayDir,
} from './throwaway-dirs';
import {
  cmdline,
  envInt,
  errorMessage,
  freePorts,
  ignore,
  isAlive,
  type Log,
  readState,
  rel,
  seconds,
  stopProcess,
  tail,
  withLock,
  writeState,
} from './processes';

// Isolated brokers are extra, throw-away brokers for tests that need SASL and ACLs without touching the shared
// broker: same jars and template, their own dir .infra/kafka-isolated/<id>/ (data, server.properties, broker.log,
// broker.json), three free ports (PLAINTEXT with ANONYMOUS as super user for set-up, CONTROLLER, SASL_PLAINTEXT
// with the SASL users), the StandardAuthorizer, and the notification ACLs created before it is returned; with
// `tls` (PEM keystore + truststore) also a SASL_SSL listener, optionally requiring client certificates.
// stopIsolatedBroker stops it and deletes the dir; one whose owner process died is stopped by the next
// up/down/startIsolatedBroker.

export interface IsolatedBrokerTls {
  /** PEM: unencrypted PKCS#8 key + certificate chain. */
  readonly keystore: string;
  /** PEM: the CA(s) client certificates are checked against. */
  readonly truststore: string;
  readonly clientAuth?: 'none' | 'requested' | 'required';
}

/** What broker.json of an isolated broker holds. */
export interface IsolatedBrokerState {
  readonly id: string;
  /** The process whose exit makes the broker an orphan. */
  readonly owner: number;
  readonly dir: string;
  readonly config: string;
  readonly log: string;
  /** PLAINTEXT listener; its principal (ANONYMOUS) is a super user, so only set-up goes through it. */
  readonly brokers: string;
  /** SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with the ACL authorizer. */
  readonly saslBrokers: string;
  /** SASL_SSL listener, when started with `tls`. */
  readonly sslBrokers?: string;
  readonly ports: {
    readonly plainPort: number;
    readonly controllerPort: number;
    readonly saslPort: number;
    readonly sslPort?: number;
  };
  /** Set once the JVM runs. */
  readonly pid?: number;
  readonly startedAt?: string;
}

export interface IsolatedBroker extends IsolatedBrokerState {
  readonly pid: number;
  readonly users: readonly SaslUser[];
  readonly mechanisms: readonly string[];
  readonly acls: readonly Acl[];
  readonly ms: number;
}

export interface IsolatedBrokerOptions {
  /** Part of its id and directory name: letters, digits, `_` and `-`. */
  readonly name?: string;
  readonly users?: readonly SaslUser[];
  readonly acls?: readonly Acl[];
  readonly superUsers?: readonly string[];
  /** Default this process. */
  readonly owner?: number;
  readonly tls?: IsolatedBrokerTls;
  readonly timeoutMs?: number;
  readonly log?: Log;
}

const stateFile = (dir: string): string => path.join(dir, 'broker.json');

/**
 * Stops an isolated broker (SIGTERM, SIGKILL after 10 s) and deletes its directory. Safe to call twice and on a
 * broker that never started. Accepts what `startIsolatedBroker` returned, or its directory.
 */
export async function stopIsolatedBroker(
  brokerOrDir: { readonly dir: string } | string | undefined,
  options: { keepData?: boolean; log?: Log } = {},
): Promise<{ stopped: boolean; killed: boolean }> {
  if (brokerOrDir === undefined) return { stopped: false, killed: false };
  const { keepData = false, log = ignore } = options;
  const dir = throwawayDir(
    typeof brokerOrDir === 'string' ? brokerOrDir : brokerOrDir.dir,
    paths.kafkaIsolated,
    'broker',
  );
  const state = readState<IsolatedBrokerState>(stateFile(dir));
  let killed = false;
  // Only a process that runs this broker's own config: a recycled pid is left alone.
  if (state && isAlive(state.pid) && cmdline(state.pid).includes(state.config)) {
    killed = await stopProcess(state.pid, {
      timeoutMs: 10_000,
      label: `isolated Kafka broker ${state.id}`,
      log,
    });
  }
  if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
  return { stopped: state?.pid !== undefined, killed };
}

/** Isolated brokers whose owning process is gone (a test run killed before its afterAll) are stopped here. */
export async function reapIsolatedBrokers(options: { log?: Log } = {}): Promise<string[]> {
  const { log = ignore } = options;
  return reapOrphans(
    paths.kafkaIsolated,
    stateFile,
    'broker',
    (dir) => stopIsolatedBroker(dir, { log }),
    log,
  );
}

export interface ListedIsolatedBroker extends IsolatedBrokerState {
  readonly running: boolean;
  readonly ownerAlive: boolean;
}

export function listIsolatedBrokers(): ListedIsolatedBroker[] {
  return childDirs(paths.kafkaIsolated).flatMap((entry) => {
    const state = readState<IsolatedBrokerState>(stateFile(path.join(paths.kafkaIsolated, entry)));
    return state ? [{ ...state, running: isAlive(state.pid), ownerAlive: isAlive(state.owner) }] : [];
  });
}

/**
 * Starts a private single-node broker for one test run, next to (never instead of) the shared one: its own data
 * dir under .infra/kafka-isolated/, its own free ports, the same Maven-resolved jars, a PLAINTEXT listener
 * (ANONYMOUS = super user: set-up only), a SASL_PLAINTEXT listener with SCRAM-SHA-256/512 and PLAIN `users`,
 * the StandardAuthorizer with `allow.everyone.if.no.acl.found=false`, and `acls` created before it returns.
 * Stop it with `stopIsolatedBroker` (tests: in afterAll). `owner` is the process whose exit makes the broker an
 * orphan that the next `up`/`down`/`startIsolatedBroker` stops. With `tls: { keystore, truststore, clientAuth }`
 * (PEM files; clientAuth `none`, `requested` or `required`) it also opens a SASL_SSL listener (`sslBrokers`).
 */
export async function startIsolatedBroker(options: IsolatedBrokerOptions = {}): Promise<IsolatedBroker> {
  const {
    name = 'isolated',
    users = SASL_USERS,
    acls = notificationsAcls(),
    superUsers = ['ANONYMOUS'],
    owner = process.pid,
    tls,
    timeoutMs = envInt('KAFKA_START_TIMEOUT_MS', 120_000),
    log = ignore,
  } = options;
  assertInstanceName(name, 'startIsolatedBroker');
  for (const file of tls ? [tls.keystore, tls.truststore] : []) {
    if (!file || !fs.existsSync(file)) throw new Error(`startIsolatedBroker: TLS file not found: ${file}`);
  }
  const t0 = Date.now();
  await reapIsolatedBrokers({ log });
  // The jars are shared with the shared broker: resolve them under the same lock as `up`.
  await withLock(paths.lock, () => ensureKafkaJars(log));
  const [plainPort = 0, controllerPort = 0, saslPort = 0, sslPort] = await freePorts(tls ? 4 : 3);
  const { id, dir } = createThrowawayDir(paths.kafkaIsolated, name);
  const dataDir = path.join(dir, 'data');
  const config = path.join(dir, 'server.properties');
  const logFile = path.join(dir, 'broker.log');
  const brokers = `${KAFKA_HOST}:${plainPort}`;
  const saslBrokers = `${KAFKA_HOST}:${saslPort}`;
  const sslBrokers = tls ? `${KAFKA_HOST}:${sslPort}` : undefined;
  const overrides = saslOverrides({
    listeners: [
      `PLAINTEXT://${brokers}`,
      `CONTROLLER://${KAFKA_HOST}:${controllerPort}`,
      `SASL_PLAINTEXT://${saslBrokers}`,
      ...(sslBrokers ? [`SASL_SSL://${sslBrokers}`] : []),
    ],
    users,
    superUsers,
    saslListeners: tls ? ['sasl_plaintext', 'sasl_ssl'] : ['sasl_plaintext'],
  });
  overrides.set('controller.quorum.voters', `1@${KAFKA_HOST}:${controllerPort}`);
  if (tls) {
    // PEM stores (Kafka >= 2.7): the keystore file holds the unencrypted PKCS#8 key and the certificate chain.
    overrides.set(
      'listener.security.protocol.map',
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    );
    overrides.set('listener.name.sasl_ssl.ssl.keystore.type', 'PEM');
    overrides.set('listener.name.sasl_ssl.ssl.keystore.location', path.resolve(tls.keystore));
    overrides.set('listener.name.sasl_ssl.ssl.truststore.type', 'PEM');
    overrides.set('listener.name.sasl_ssl.ssl.truststore.location', path.resolve(tls.truststore));
    overrides.set('listener.name.sasl_ssl.ssl.client.auth', tls.clientAuth ?? 'none');
  }
  // Small and quick: one test run's topics.
  overrides.set('num.network.threads', '1');
  overrides.set('log.segment.bytes', String(16 * 1024 * 1024));
  writeServerProperties({ file: config, dataDir, overrides, label: `isolated broker ${id}` });
  let state: IsolatedBrokerState = {
    id,
    owner,
    dir,
    config,
    log: logFile,
    brokers,
    saslBrokers,
    ...(sslBrokers ? { sslBrokers } : {}),
    ports: { plainPort, controllerPort, saslPort, ...(sslPort !== undefined ? { sslPort } : {}) },
  };
  writeState(stateFile(dir), state);
  let pid: number;
  try {
    await formatDataDir({ dataDir, config, users });
    log(`formatted ${rel(dataDir)} in ${seconds(Date.now() - t0)}`);
    pid = await spawnBroker({ config, logFile, cwd: dir, label: id });
    state = { ...state, pid, startedAt: new Date().toISOString() };
    writeState(stateFile(dir), state);
    await waitForBroker(pid, timeoutMs, { brokers, logFile });
    log(`broker answering after ${seconds(Date.now() - t0)}`);
    await createAcls([brokers], acls);
    await warmUpGroupCoordinator([brokers]);
  } catch (error) {
    const logTail = tail(logFile);
    await stopIsolatedBroker(dir, { log });
    throw new Error(
      `isolated broker ${id} failed to start: ${errorMessage(error)}\nTail of its log:\n${logTail}`,
      { cause: error },
    );
  }
  log(
    `isolated broker ${id}: ${brokers} PLAINTEXT, ${saslBrokers} SASL_PLAINTEXT, pid ${pid}, ${acls.length} ACLs`,
  );
  return { ...state, pid, users, mechanisms: SASL_MECHANISMS, acls, ms: Date.now() - t0 };
}

/**
 * Crashes an isolated broker (`kill -9`, or SIGTERM with `kill: false`) and starts it again on the same data dir
 * and ports, as a supervisor would after a crash; resolves when it accepts clients again. The fault-injection
 * suite uses it while a run is in flight. Returns the broker with its new pid.
 */
export async function restartIsolatedBroker<B extends { readonly dir: string }>(
  broker: B,
  options: { kill?: boolean; timeoutMs?: number; log?: Log } = {},
): Promise<B & IsolatedBrokerState & { readonly pid: number }> {
  const { kill = true, timeoutMs = 120_000, log = ignore } = options;
  const dir = throwawayDir(broker.dir, paths.kafkaIsolated, 'broker');
  const state = readState<IsolatedBrokerState>(stateFile(dir));
  if (!state) throw new Error(`restartIsolatedBroker: ${dir} holds no broker`);
  if (isAlive(state.pid) && cmdline(state.pid).includes(state.config)) {
    await stopProcess(state.pid, {
      signal: kill ? 'SIGKILL' : 'SIGTERM',
      timeoutMs: 30_000,
      label: `isolated Kafka broker ${state.id}`,
      log,
    });
  }
  const pid = await spawnBroker({
    config: state.config,
    logFile: state.log,
    cwd: dir,
    label: `${state.id} restart`,
  });
  const restarted = { ...state, pid, startedAt: new Date().toISOString() };
  writeState(stateFile(dir), restarted);
  await waitForBroker(pid, timeoutMs, { brokers: state.brokers, logFile: state.log });
  log(`isolated broker ${state.id} restarted (pid ${pid})`);
  return { ...broker, ...restarted };
}

/** A SASL user of the isolated broker, by name. */
export function userOf(broker: { readonly users: readonly SaslUser[] }, username: string): SaslUser {
  const user = broker.users.find((candidate) => candidate.username === username);
  if (!user) throw new Error(`the isolated broker has no user ${username}`);
  return user;
}
