import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { paths } from '../paths';
import { childrenOf, cmdline, freePorts, isAlive, type Log, seconds, sleep } from '../processes';
import {
  buildTarget,
  containersNamed,
  createContainer,
  imageConfig,
  imageSize,
  removeContainer,
  runInContainer,
  startInContainer,
} from './buildah';

// The app images: built from the root Dockerfile as it is (one target per app, NODE_IMAGE pointing at the local
// Node base), then started the way a container engine would start them, each against the local broker and
// PostgreSQL, until `/health/ready` answers; the orders image also runs the migrations and the operator CLI.

export const APP_TARGETS = ['orders', 'email-sender', 'status-poller', 'acs-emulator'] as const;
export type AppTarget = (typeof APP_TARGETS)[number];

/** Working containers of a run are named with this prefix (and removed at the end, or by the next run). */
export const CONTAINER_PREFIX = 'notifications-images-';
export const LOG_DIR = path.join(paths.infra, 'images');

export function appImageName(target: AppTarget): string {
  return `localhost/notifications/${target}:local`;
}

export interface BuiltImage {
  readonly target: AppTarget;
  readonly image: string;
  readonly size: string;
  readonly ms: number;
  readonly steps: number;
  readonly cachedSteps: number;
}

/** Builds every target in turn: the first builds the shared stages, the others take them from the layer cache. */
export async function buildAppImages(options: { nodeImage: string; log: Log }): Promise<BuiltImage[]> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const built: BuiltImage[] = [];
  for (const target of APP_TARGETS) {
    const started = Date.now();
    const logFile = path.join(LOG_DIR, `build-${target}.log`);
    options.log(`build ${target} (log: ${path.relative(paths.root, logFile)})`);
    const { steps, cacheHits } = await buildTarget({
      context: paths.root,
      target,
      tag: appImageName(target),
      buildArgs: { NODE_IMAGE: options.nodeImage },
      logFile,
      onStep: ({ step, cached }) => {
        const text = step.length > 110 ? `${step.slice(0, 109)}…` : step;
        options.log(`  ${text}${cached ? '  (cached)' : ''}`);
      },
    }).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}: see ${logFile}`);
    });
    const image = appImageName(target);
    const result: BuiltImage = {
      target,
      image,
      size: await imageSize(image),
      ms: Date.now() - started,
      // FROM lines start a stage; they are no step of their own to cache
      steps: steps.filter((step) => !/STEP \d+\/\d+: FROM /.test(step.step)).length,
      cachedSteps: cacheHits,
    };
    options.log(
      `${target}: ${result.size} in ${seconds(result.ms)} (${result.cachedSteps} of ${result.steps} steps cached)`,
    );
    built.push(result);
  }
  return built;
}

export interface SmokeOptions {
  readonly kafkaBrokers: string;
  /** The PostgreSQL server; the run creates a database of its own there and drops it at the end. */
  readonly databaseServerUrl: string;
  readonly readyTimeoutMs: number;
  readonly log: Log;
}

export interface ReadyApp {
  readonly target: AppTarget;
  readonly port: number;
  readonly ms: number;
}

export interface SmokeResult {
  readonly migrationsMs: number;
  readonly apps: readonly ReadyApp[];
  readonly opsCommands: readonly string[];
}

interface RunningApp {
  readonly target: AppTarget;
  /** what runs in the container: ENTRYPOINT + CMD */
  readonly command: readonly string[];
  readonly pid: number;
  readonly exited: Promise<number | null>;
  readonly logFile: string;
}

// The development-environment settings docker-compose.yml gives the apps (APP_ENV=development: the dev signing
// keys, plaintext Kafka and single-replica topics are allowed), pointed at the host's broker and database.
const EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';
const DELIVERY_REPORT_ACCESS_KEY = 'status-poller-dev-delivery-report-key';

/**
 * Starts every image's entry point (ENTRYPOINT + CMD, as its configuration says, as its USER) and waits for
 * `/health/ready`; topics carry a suffix of this run and the database is this run's, so nothing shared is touched.
 */
export async function smokeTestImages(options: SmokeOptions): Promise<SmokeResult> {
  const { log } = options;
  const runId = `images-${randomUUID().slice(0, 8)}`;
  const database = runId.replace('-', '_');
  const databaseUrl = withDatabase(options.databaseServerUrl, database);
  const ports = await freePorts(8);
  const port = (target: AppTarget): number => ports[APP_TARGETS.indexOf(target) * 2] ?? 0;
  const managementPort = (target: AppTarget): number => ports[APP_TARGETS.indexOf(target) * 2 + 1] ?? 0;
  const emulatorUrl = `http://127.0.0.1:${port('acs-emulator')}`;
  const acsConnectionString = `endpoint=${emulatorUrl}/;accesskey=${EMULATOR_ACCESS_KEY}`;
  const common = (target: AppTarget): Record<string, string> => ({
    APP_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port(target)),
    MANAGEMENT_PORT: String(managementPort(target)),
    KAFKA_BROKERS: options.kafkaBrokers,
    KAFKA_TOPIC_SUFFIX: runId,
    KAFKA_TOPIC_PARTITIONS: '1',
    KAFKA_SHUTDOWN_TIMEOUT_MS: '5s',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    // The operators' development key: the image's files belong to root, so not next to the code (/app/.dev).
    OPERATOR_AUTH_DEV_KEY_FILE: '/tmp/notifications-dev/operator-dev-key.json',
    // Without a PID namespace tini is not PID 1: as a subreaper it still reaps what node leaves behind.
    TINI_SUBREAPER: '1',
  });
  const envOf: Record<AppTarget, Record<string, string>> = {
    'acs-emulator': {
      ...common('acs-emulator'),
      ACS_DELIVERY_REPORT_WEBHOOK: `http://127.0.0.1:${port('status-poller')}/notifications/email/api/v1/reports`,
      ACS_DELIVERY_REPORT_ACCESS_KEY: DELIVERY_REPORT_ACCESS_KEY,
    },
    orders: {
      ...common('orders'),
      DATABASE_URL: databaseUrl,
      // The container's own /tmp: the development key is generated there on first start.
      AUTH_DEV_KEY_FILE: '/tmp/orders-dev/jwt-dev-key.json',
    },
    'email-sender': { ...common('email-sender'), ACS_CONNECTION_STRING: acsConnectionString },
    'status-poller': {
      ...common('status-poller'),
      ACS_CONNECTION_STRING: acsConnectionString,
      DELIVERY_REPORT_ACCESS_KEY,
    },
  };

  fs.mkdirSync(LOG_DIR, { recursive: true });
  await removeLeftoverContainers(log);
  const running: RunningApp[] = [];
  // One working container per image (with vfs each is a full copy of the image): the orders container runs the
  // migrations, the app and the operator CLI, as `kubectl exec deploy/orders -- node apps/ops/dist/main.js` would.
  const containers = new Map<AppTarget, string>();
  const containerOf = (target: AppTarget): string => containers.get(target) ?? '';
  await createDatabase(options.databaseServerUrl, database);
  try {
    for (const target of APP_TARGETS) {
      containers.set(target, await createContainer(appImageName(target), `${CONTAINER_PREFIX}${target}`));
    }
    const ops = containerOf('orders');
    await checkHostNetwork(ops);
    log(`containers share the host's network namespace; topics suffixed ${runId}, database ${database}`);

    const migrationsStarted = Date.now();
    const migrations = await runInContainer(ops, ['node', 'apps/orders/dist/migrate.js', 'run'], {
      env: { DATABASE_URL: databaseUrl },
    });
    const migrationsMs = Date.now() - migrationsStarted;
    log(`orders migrations: ${lastLine(migrations)} (${seconds(migrationsMs)})`);

    // The emulator first: email-sender and status-poller check ACS on readiness.
    const ready: ReadyApp[] = [];
    const startApp = async (target: AppTarget): Promise<void> => {
      const { command } = await imageConfig(appImageName(target));
      const logFile = path.join(LOG_DIR, `${target}.log`);
      const started = Date.now();
      const child = startInContainer(containerOf(target), command, { env: envOf[target], logFile });
      const app = { target, command, logFile, ...child };
      running.push(app);
      await waitReady(app, port(target), options.readyTimeoutMs);
      const result = { target, port: port(target), ms: Date.now() - started };
      ready.push(result);
      log(`${target}: /health/ready answered 200 after ${seconds(result.ms)} (${command.join(' ')})`);
    };
    await startApp('acs-emulator');
    await Promise.all((['orders', 'email-sender', 'status-poller'] as const).map(startApp));

    // The operator CLI from the orders image, against the running apps' topics and database.
    const opsEnv = { ...common('orders'), DATABASE_URL: databaseUrl };
    const help = await runInContainer(ops, ['node', 'apps/ops/dist/main.js', '--help'], { env: opsEnv });
    const commands = [...help.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)]
      .map((match) => match[1] ?? '')
      .filter((command) => command !== 'help');
    log(`ops --help: ${commands.join(', ')}`);
    const topics = await runInContainer(ops, ['node', 'apps/ops/dist/main.js', 'topics', 'check'], {
      env: opsEnv,
    });
    log(`ops topics check: ${lastLine(topics)}`);
    const lag = await runInContainer(ops, ['node', 'apps/ops/dist/main.js', 'lag'], { env: opsEnv });
    log(`ops lag: ${lastLine(lag)}`);
    return { migrationsMs, apps: ready, opsCommands: commands };
  } finally {
    await stopApps(running, log);
    for (const name of containers.values()) await removeContainer(name).catch(() => undefined);
    await deleteRunTopics(options.kafkaBrokers, runId).catch((error: unknown) =>
      log(`topics or consumer groups of ${runId} not deleted: ${String(error)}`),
    );
    await dropDatabase(options.databaseServerUrl, database).catch((error: unknown) =>
      log(`database ${database} not dropped: ${String(error)}`),
    );
  }
}

/** A process in the container must see the host's network namespace, or 127.0.0.1 is not the host's. */
async function checkHostNetwork(container: string): Promise<void> {
  const inside = (
    await runInContainer(container, ['node', '-p', "require('fs').readlinkSync('/proc/self/ns/net')"])
  ).trim();
  const outside = fs.readlinkSync('/proc/self/ns/net');
  if (inside !== outside) {
    throw new Error(`the container's network namespace is ${inside}, the host's ${outside}`);
  }
}

async function waitReady(app: RunningApp, port: number, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void app.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${app.target} exited with ${String(exitCode)} before it was ready: see ${app.logFile}`,
      );
    }
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(250);
  }
  throw new Error(
    `${app.target} did not answer /health/ready within ${seconds(timeoutMs)}: see ${app.logFile}`,
  );
}

/**
 * Stops each app as a container engine would: SIGTERM to the entry point (tini, which passes it on to node; node
 * drains its consumers and exits, then tini and `buildah run`), SIGKILL to everything left after 30 s. Not to
 * `buildah run` itself: it would exit at once and leave tini's child, in a process group of its own, running.
 */
async function stopApps(apps: readonly RunningApp[], log: Log): Promise<void> {
  await Promise.all(
    apps.map(async (app) => {
      if (!isAlive(app.pid)) return;
      const started = Date.now();
      const tree = descendants(app.pid);
      const entryPoint = tree.find((pid) => cmdline(pid)[0] === app.command[0]);
      if (entryPoint === undefined) signalGroup(app.pid, 'SIGTERM');
      else signal(entryPoint, 'SIGTERM');
      const killer = setTimeout(() => {
        for (const pid of [...descendants(app.pid), ...tree]) signal(pid, 'SIGKILL');
        signalGroup(app.pid, 'SIGKILL');
      }, 30_000);
      const code = await app.exited;
      clearTimeout(killer);
      const left = tree.filter((pid) => isAlive(pid));
      for (const pid of left) signal(pid, 'SIGKILL');
      log(
        `${app.target}: stopped in ${seconds(Date.now() - started)} (exit ${String(code)})` +
          (left.length > 0 ? `; killed ${left.length} process(es) left behind` : ''),
      );
    }),
  );
}

/** Every process below `pid` (buildah's chroot runtime, tini, node). */
function descendants(pid: number): number[] {
  const children = childrenOf(pid);
  return [...children, ...children.flatMap(descendants)];
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function signalGroup(pid: number, name: NodeJS.Signals): void {
  signal(-pid, name);
}

export async function removeLeftoverContainers(log: Log): Promise<void> {
  for (const name of await containersNamed(CONTAINER_PREFIX)) {
    await removeContainer(name);
    log(`removed the working container ${name} of an earlier run`);
  }
}

function lastLine(output: string): string {
  return (
    output
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1) ?? ''
  ).trim();
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(serverUrl: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(serverUrl: string, database: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${database}"`));
}

async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
}

/**
 * The run's topics and consumer groups: the suffix ends most names; status-poller's delay tiers carry it before
 * `.delay.<interval>`.
 */
async function deleteRunTopics(brokers: string, runId: string): Promise<void> {
  const admin = new Kafka({
    clientId: runId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.includes(`.${runId}`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    // A group the broker still counts members of (a consumer that has just left) refuses deletion: one retry.
    for (let attempt = 1; ; attempt += 1) {
      const { groups } = await admin.listGroups();
      const ours = groups.map((group) => group.groupId).filter((group) => group.includes(runId));
      if (ours.length === 0) return;
      try {
        await admin.deleteGroups(ours);
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
        await sleep(5_000);
      }
    }
  } finally {
    await admin.disconnect();
  }
}
