import fs from 'node:fs';
import path from 'node:path';
import {
  describeCluster,
  ensureKafkaJars,
  formatDataDir,
  newClusterId,
  KAFKA_HOST,
  spawnBroker,
  waitForBroker,
  warmUpGroupCoordinator,
  writeServerProperties,
} from './kafka-broker';
import { paths } from './paths';
import { assertInstanceName, createThrowawayDir, reapOrphans, throwawayDir } from './throwaway-dirs';
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
  sleep,
  stopProcess,
  tail,
  withLock,
  writeState,
} from './processes';

// Isolated clusters are three combined KRaft controller + broker nodes from the same jars and template (static
// quorum of the three, PLAINTEXT, free ports, replication factor 3 and min.insync.replicas 2 as broker defaults,
// internal topics included), for tests that kill one broker while the apps write with acks=all (the fault suite).
// Reaped like isolated brokers.

/** One node of an isolated cluster (a combined KRaft controller + broker). */
export interface IsolatedClusterNode {
  readonly nodeId: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly config: string;
  readonly log: string;
  /** Its PLAINTEXT listener. */
  readonly brokers: string;
  readonly controller: string;
  /** While it runs; undefined after `killClusterBroker`. */
  readonly pid?: number;
}

/** What cluster.json of an isolated cluster holds. */
export interface IsolatedCluster {
  readonly id: string;
  readonly owner: number;
  readonly dir: string;
  /** Every node's PLAINTEXT listener, comma-separated (a client's bootstrap list). */
  readonly brokers: string;
  /** Broker default for new topics (internal topics included): the number of nodes. */
  readonly replicationFactor: number;
  /** Broker default: nodes − 1, so an acks=all write is on two brokers and one broker may be down. */
  readonly minInsyncReplicas: number;
  readonly nodes: readonly IsolatedClusterNode[];
  readonly clusterId?: string;
  readonly startedAt?: string;
  /** How long the start took (what `startIsolatedCluster` returns). */
  readonly ms?: number;
}

export interface IsolatedClusterOptions {
  readonly name?: string;
  /** Default 3; fewer cannot lose a broker and keep acks=all writes. */
  readonly nodes?: number;
  readonly owner?: number;
  readonly timeoutMs?: number;
  readonly log?: Log;
}

const stateFile = (dir: string): string => path.join(dir, 'cluster.json');

function writeClusterState(state: IsolatedCluster): void {
  writeState(stateFile(state.dir), state);
}

function readCluster(dir: string, what: string): IsolatedCluster {
  const state = readState<IsolatedCluster>(stateFile(dir));
  if (!state) throw new Error(`${what}: ${dir} holds no cluster`);
  return state;
}

function clusterNode(state: IsolatedCluster, nodeId: number): IsolatedClusterNode {
  const node = state.nodes.find((candidate) => candidate.nodeId === nodeId);
  if (!node) {
    throw new Error(
      `cluster ${state.id} has no node ${nodeId} (nodes ${state.nodes.map((n) => n.nodeId).join(',')})`,
    );
  }
  return node;
}

/** The node's own process: a recycled pid that runs something else is left alone. */
function nodeProcessAlive(node: IsolatedClusterNode): node is IsolatedClusterNode & { pid: number } {
  return isAlive(node.pid) && cmdline(node.pid).includes(node.config);
}

/** Resolves when `nodes` all answer and each reports every node of the cluster as a live broker. */
async function waitForCluster(
  state: IsolatedCluster,
  nodes: readonly IsolatedClusterNode[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes) {
    if (node.pid === undefined) throw new Error(`node ${node.nodeId} of cluster ${state.id} is not running`);
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
 * Stops every node of an isolated cluster (SIGKILL, or SIGTERM with `keepData`) and deletes its directory. Safe
 * to call twice. Accepts what `startIsolatedCluster` returned, or its directory.
 */
export async function stopIsolatedCluster(
  clusterOrDir: { readonly dir: string } | string | undefined,
  options: { keepData?: boolean; log?: Log } = {},
): Promise<{ stopped: number }> {
  if (clusterOrDir === undefined) return { stopped: 0 };
  const { keepData = false, log = ignore } = options;
  const dir = throwawayDir(
    typeof clusterOrDir === 'string' ? clusterOrDir : clusterOrDir.dir,
    paths.kafkaClusters,
    'cluster',
  );
  const state = readState<IsolatedCluster>(stateFile(dir));
  const running = (state?.nodes ?? []).filter(nodeProcessAlive);
  await Promise.all(
    running.map((node) =>
      // Its data is thrown away: no controlled shutdown (which waits for the quorum the other nodes are leaving).
      stopProcess(node.pid, {
        signal: keepData ? 'SIGTERM' : 'SIGKILL',
        timeoutMs: 10_000,
        label: `cluster ${state?.id ?? dir} node ${node.nodeId}`,
        log,
      }),
    ),
  );
  if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
  return { stopped: running.length };
}

/** Isolated clusters whose owning process is gone (a test run killed before its afterAll) are stopped here. */
export async function reapIsolatedClusters(options: { log?: Log } = {}): Promise<string[]> {
  const { log = ignore } = options;
  return reapOrphans(
    paths.kafkaClusters,
    stateFile,
    'cluster',
    (dir) => stopIsolatedCluster(dir, { log }),
    log,
  );
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
 */
export async function startIsolatedCluster(options: IsolatedClusterOptions = {}): Promise<IsolatedCluster> {
  const {
    name = 'cluster',
    nodes: count = 3,
    owner = process.pid,
    // Three JVMs starting at once: twice a single broker's budget.
    timeoutMs = envInt('KAFKA_START_TIMEOUT_MS', 240_000),
    log = ignore,
  } = options;
  assertInstanceName(name, 'startIsolatedCluster');
  if (!Number.isInteger(count) || count < 3) {
    throw new Error(
      `startIsolatedCluster: a cluster that survives a lost broker needs ≥ 3 nodes, got ${count}`,
    );
  }
  const t0 = Date.now();
  await reapIsolatedClusters({ log });
  await withLock(paths.lock, () => ensureKafkaJars(log));
  const ports = await freePorts(count * 2);
  const { id, dir } = createThrowawayDir(paths.kafkaClusters, name);
  const replicationFactor = count;
  const minInsyncReplicas = count - 1;
  const nodes: IsolatedClusterNode[] = Array.from({ length: count }, (_, index) => {
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
  let state: IsolatedCluster = {
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
    const clusterId = newClusterId();
    await Promise.all(
      nodes.map((node) =>
        formatDataDir({ dataDir: node.dataDir, config: node.config, users: [], clusterId }),
      ),
    );
    log(`formatted ${count} nodes in ${seconds(Date.now() - t0)}`);
    const started: IsolatedClusterNode[] = [];
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
  } catch (error) {
    const tails = state.nodes.map((node) => `--- node ${node.nodeId} ---\n${tail(node.log, 20)}`).join('\n');
    await stopIsolatedCluster(dir, { log });
    throw new Error(
      `isolated cluster ${id} failed to start: ${errorMessage(error)}\nTail of its logs:\n${tails}`,
      { cause: error },
    );
  }
  log(
    `isolated cluster ${id}: ${state.brokers}, replication ${replicationFactor}, min ISR ${minInsyncReplicas}`,
  );
  return { ...state, ms: Date.now() - t0 };
}

/** `kill -9` one node of an isolated cluster (SIGTERM with `kill: false`); resolves when its process is gone. */
export async function killClusterBroker(
  cluster: { readonly dir: string },
  nodeId: number,
  options: { kill?: boolean; log?: Log } = {},
): Promise<IsolatedCluster> {
  const { kill = true, log = ignore } = options;
  const state = readCluster(throwawayDir(cluster.dir, paths.kafkaClusters, 'cluster'), 'killClusterBroker');
  const node = clusterNode(state, nodeId);
  if (nodeProcessAlive(node)) {
    await stopProcess(node.pid, {
      signal: kill ? 'SIGKILL' : 'SIGTERM',
      timeoutMs: 30_000,
      label: `cluster ${state.id} node ${node.nodeId}`,
      log,
    });
  }
  const stopped: IsolatedCluster = {
    ...state,
    nodes: state.nodes.map((n) => {
      if (n.nodeId !== node.nodeId) return n;
      const { pid: _pid, ...rest } = n;
      return rest;
    }),
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
  cluster: { readonly dir: string },
  nodeId: number,
  options: { kill?: boolean; timeoutMs?: number; log?: Log } = {},
): Promise<IsolatedCluster> {
  const { kill = true, timeoutMs = 240_000, log = ignore } = options;
  const dir = throwawayDir(cluster.dir, paths.kafkaClusters, 'cluster');
  const state = await killClusterBroker({ dir }, nodeId, { kill, log });
  const node = clusterNode(state, nodeId);
  const pid = await spawnBroker({
    config: node.config,
    logFile: node.log,
    cwd: node.dir,
    label: `${state.id} node ${node.nodeId} restart`,
  });
  const restarted: IsolatedCluster = {
    ...state,
    nodes: state.nodes.map((n) => (n.nodeId === node.nodeId ? { ...n, pid } : n)),
  };
  writeClusterState(restarted);
  await waitForCluster(restarted, [{ ...node, pid }], timeoutMs);
  log(`cluster ${state.id}: node ${node.nodeId} restarted (pid ${pid})`);
  return restarted;
}
