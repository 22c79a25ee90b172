// The development-infrastructure CLI (npm run infra:up|down|status runs it):
//
//   infra up|down|status [--sasl] [--no-kafka] [--no-postgres] [--quiet]
//   infra broker-up [--name n] [--owner pid] [--json]          an isolated SASL + ACL broker
//         [--tls-keystore <pem> --tls-truststore <pem> [--tls-client-auth none|requested|required]]
//   infra broker-down <dir>                                    stop it and delete its directory
//   infra broker-restart <dir> [--graceful] [--json]           kill -9 (or stop) and start it again
//   infra postgres-up [--name n] [--owner pid] [--json]        an isolated PostgreSQL (fault tests)
//   infra postgres-restart <dir> [--graceful] [--down-ms ms] [--json]
//   infra postgres-down <dir>
//   infra cluster-up [--name n] [--nodes 3] [--owner pid] [--json]  a three-broker KRaft cluster
//   infra cluster-kill|cluster-restart <dir> <node id> [--graceful]  crash / restart one node
//   infra cluster-down <dir>
//
// where `infra` is `node --conditions=@notifications/source -r @swc-node/register libs/dev-infra/src/main.ts`
// (see libs/dev-infra/README.md). Exit codes: 0 done, 1 failed, 2 usage error.
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
import path from 'node:path';
import { down, status, up } from './lib/infra';
import {
  type IsolatedBrokerState,
  type IsolatedBrokerTls,
  restartIsolatedBroker,
  startIsolatedBroker,
  stopIsolatedBroker,
} from './lib/isolated-broker';
import {
  killClusterBroker,
  restartClusterBroker,
  startIsolatedCluster,
  stopIsolatedCluster,
} from './lib/isolated-cluster';
import { SASL_MECHANISMS } from './lib/kafka-broker';
import {
  readIsolatedPostgres,
  restartIsolatedPostgres,
  startIsolatedPostgres,
  stopIsolatedPostgres,
} from './lib/postgres';
import { errorMessage, type Log, readState, rel, seconds } from './lib/processes';

const USAGE =
  'usage: infra up|down|status [--sasl] [--no-kafka] [--no-postgres] [--quiet]\n' +
  '       infra broker-up [--name <name>] [--owner <pid>] [--json]\n' +
  '             [--tls-keystore <pem> --tls-truststore <pem> [--tls-client-auth none|requested|required]]\n' +
  '       infra broker-down <dir>';

const ISOLATED_COMMANDS: ReadonlySet<string> = new Set([
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

function isClientAuth(value: string): value is NonNullable<IsolatedBrokerTls['clientAuth']> {
  return value === 'none' || value === 'requested' || value === 'required';
}

/** The extra, throw-away brokers, clusters and databases of tests. */
async function isolatedCli(command: string, args: readonly string[]): Promise<void> {
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const print = (result: unknown, text: string): void => {
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else console.log(text);
  };
  const log: Log = json ? (m) => console.error(`[kafka] ${m}`) : (m) => console.log(`[kafka] ${m}`);
  const owner = Number(value('--owner') ?? process.ppid);
  const name = value('--name');
  const positional = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--down-ms'));
  const kill = !args.includes('--graceful');
  switch (command) {
    case 'broker-up': {
      const keystore = value('--tls-keystore');
      const clientAuth = value('--tls-client-auth') ?? 'none';
      if (!isClientAuth(clientAuth)) throw new Error(`--tls-client-auth: none, requested or required`);
      const tls: IsolatedBrokerTls | undefined = keystore
        ? {
            keystore: path.resolve(keystore),
            truststore: path.resolve(value('--tls-truststore') ?? ''),
            clientAuth,
          }
        : undefined;
      const broker = await startIsolatedBroker({
        name: name ?? 'isolated',
        owner,
        ...(tls ? { tls } : {}),
        log,
      });
      print(
        broker,
        [
          `isolated broker ${broker.id} ready in ${seconds(broker.ms)}`,
          `  PLAINTEXT      ${broker.brokers}  (ANONYMOUS super user: set-up only)`,
          `  SASL_PLAINTEXT ${broker.saslBrokers}  (${SASL_MECHANISMS.join(', ')})`,
          ...(broker.sslBrokers
            ? [`  SASL_SSL       ${broker.sslBrokers}  (client auth: ${clientAuth})`]
            : []),
          `  stop with: npm run infra -- broker-down ${rel(broker.dir)}`,
        ].join('\n'),
      );
      return;
    }
    case 'cluster-up': {
      const nodes = Number(value('--nodes') ?? 3);
      const cluster = await startIsolatedCluster({ name: name ?? 'cluster', nodes, owner, log });
      print(
        cluster,
        [
          `isolated cluster ${cluster.id} ready in ${seconds(cluster.ms ?? 0)}`,
          `  PLAINTEXT ${cluster.brokers}`,
          `  replication factor ${cluster.replicationFactor}, min.insync.replicas ${cluster.minInsyncReplicas}`,
          `  stop with: npm run infra -- cluster-down ${rel(cluster.dir)}`,
        ].join('\n'),
      );
      return;
    }
    case 'cluster-kill':
    case 'cluster-restart':
    case 'cluster-down': {
      const [dir, node] = positional;
      if (!dir || (command !== 'cluster-down' && !node)) {
        throw new Error(`usage: infra ${command} <dir>${command === 'cluster-down' ? '' : ' <node id>'}`);
      }
      const nodeId = Number(node);
      const result =
        command === 'cluster-down'
          ? await stopIsolatedCluster(dir, { log })
          : command === 'cluster-kill'
            ? await killClusterBroker({ dir: path.resolve(dir) }, nodeId, { kill, log })
            : await restartClusterBroker({ dir: path.resolve(dir) }, nodeId, { kill, log });
      print(result, `${command} ${rel(dir)}${node ? ` node ${node}` : ''}: done`);
      return;
    }
    case 'postgres-up': {
      const instance = await startIsolatedPostgres({ name: name ?? 'isolated', owner, log });
      print(instance, `isolated PostgreSQL ${instance.id} at ${instance.url} (pid ${instance.pid})`);
      return;
    }
    default:
      break;
  }
  const [dir] = positional;
  if (!dir) throw new Error(`usage: infra ${command} <dir>`);
  switch (command) {
    case 'broker-restart': {
      const state = readState<IsolatedBrokerState>(path.join(path.resolve(dir), 'broker.json'));
      if (!state) throw new Error(`no isolated broker in ${dir}`);
      const broker = await restartIsolatedBroker(state, { kill, log });
      print(broker, `isolated broker ${broker.id} restarted (pid ${broker.pid})`);
      return;
    }
    case 'postgres-restart':
    case 'postgres-down': {
      const state = readIsolatedPostgres(dir);
      if (!state) throw new Error(`no isolated PostgreSQL in ${dir}`);
      if (command === 'postgres-down') {
        await stopIsolatedPostgres(state, { log });
        print({ stopped: true }, `stopped isolated PostgreSQL ${rel(dir)}`);
        return;
      }
      const downMs = Number(value('--down-ms') ?? 0);
      if (!Number.isSafeInteger(downMs) || downMs < 0)
        throw new Error(`--down-ms: not a duration in ms: ${downMs}`);
      const instance = await restartIsolatedPostgres(state, { kill, downMs, log });
      print(instance, `isolated PostgreSQL ${instance.id} restarted (pid ${instance.pid})`);
      return;
    }
    default: {
      const result = await stopIsolatedBroker(dir, { log });
      print(
        result,
        result.stopped ? `stopped isolated broker ${rel(dir)}` : `no isolated broker in ${rel(dir)}`,
      );
    }
  }
}

async function mainCli(command: string | undefined, rest: readonly string[]): Promise<number> {
  const flags = new Set(rest);
  const known = new Set(['--sasl', '--no-kafka', '--no-postgres', '--quiet']);
  const unknown = rest.filter((flag) => !known.has(flag));
  if (!(command === 'up' || command === 'down' || command === 'status') || unknown.length) {
    console.error(unknown.length ? `unknown option(s): ${unknown.join(' ')}\n${USAGE}` : USAGE);
    return 2;
  }
  const common = {
    kafka: !flags.has('--no-kafka'),
    postgres: !flags.has('--no-postgres'),
    quiet: flags.has('--quiet'),
  };
  try {
    if (command === 'up') await up({ ...common, ...(flags.has('--sasl') ? { sasl: true } : {}) });
    else if (command === 'down') await down(common);
    else await status(common);
    return 0;
  } catch (error) {
    console.error(`infra ${command} failed: ${errorMessage(error)}`);
    return 1;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || !ISOLATED_COMMANDS.has(command)) return mainCli(command, rest);
  try {
    await isolatedCli(command, rest);
    return 0;
  } catch (error) {
    console.error(`infra ${command} failed: ${errorMessage(error)}`);
    return 1;
  }
}

// kafkajs 2.2.4 schedules setTimeout(-1 - Date.now()) in its request queue; Node >= 24 warns about it
// (TimeoutNegativeWarning). Harmless; keep the CLI output clean.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.warn(`${warning.name}: ${warning.message}`);
});

void main(process.argv.slice(2)).then((code) => process.exit(code));
