import { type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { AcsEmulatorClient, freePorts, startAppProcess } from '@notifications/testing';
import { SignJWT } from 'jose';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { type RowQuery } from './notification-ledger';
import { OrdersApi } from './orders-api';

export const APP_NAMES = ['acs-emulator', 'orders', 'email-sender', 'status-poller'] as const;
export type AppName = (typeof APP_NAMES)[number];
/** The apps that run as several replicas with `replicas`; the emulator stands in for ACS and runs once. */
export const SCALED_APPS = ['orders', 'email-sender', 'status-poller'] as const satisfies readonly AppName[];

/** Everything the pipeline's apps need from outside: the same defaults as `npm start` and `npm test`. */
export const DEFAULT_KAFKA_BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
export const DEFAULT_DATABASE_URL =
  process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/notifications';
const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * The `node` arguments an app declares in its package.json (`notifications.nodeArgs`, as `npm start` uses them):
 * the apps' heap caps, so every run measures the apps as they are deployed.
 */
export function appNodeArgs(app: AppName): readonly string[] {
  const manifest = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'apps', app, 'package.json'), 'utf8')) as {
    notifications?: { nodeArgs?: unknown };
  };
  const args = manifest.notifications?.nodeArgs;
  return Array.isArray(args) ? args.filter((arg): arg is string => typeof arg === 'string') : [];
}

// status-poller's development default delivery-report key (not a secret).
const DELIVERY_REPORT_ACCESS_KEY = 'status-poller-dev-delivery-report-key';
const NOTIFICATIONS_CREATE_SCOPE = 'altinn:serviceowner/notifications.create';
// The scope of operators' tokens on the management listeners (libs/config OPERATOR_SCOPE).
const OPERATOR_SCOPE = 'altinn:notifications.operator';

// Polled, so only a slow start waits this long: several replicas starting at once on a busy 2-core machine.
const READY_TIMEOUT_MS = 300_000;
const TAIL_LINES = 60;

export interface PipelineOptions {
  /** Names the run's database and topic suffix (letters, digits, -). */
  readonly label: string;
  /** Partitions of every topic; default 6, enough to spread work over several partitions and batches. */
  readonly partitions?: number;
  /** Replication factor of the topics the apps create; default the apps' own (1, one broker). */
  readonly replicationFactor?: number;
  /** Another broker than the shared one (the fault suite's own, which it kills). */
  readonly kafkaBrokers?: string;
  /** Another PostgreSQL server than the shared one (any database on it; the run creates its own). */
  readonly databaseServerUrl?: string;
  /** Settings per app, over the run's defaults. */
  readonly env?: Partial<Record<AppName, Record<string, string>>>;
  /**
   * Extra `node` arguments per app, before the script (e.g. `--cpu-prof` for the benchmark), after the app's own
   * (`appNodeArgs`: its heap cap), so a later `--max-old-space-size` here wins.
   */
  readonly nodeArgs?: Partial<Record<AppName, readonly string[]>>;
  /**
   * Processes per app of SCALED_APPS (default 1): separate processes on ports of their own, in the same consumer
   * groups and on the same database, as replicas of a deployment are. The other apps and the harness talk to
   * replica 0 (`url(app)`); the emulator runs once.
   */
  readonly replicas?: number;
}

/** One replica's process: its port survives restarts, so the other apps' links stay valid. */
interface AppProcess {
  readonly name: AppName;
  readonly replica: number;
  readonly port: number;
  /** The management listener (operator endpoints, /metrics, /status) of the three Kafka apps. */
  readonly managementPort: number;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** Set before a deliberate kill or stop; any other exit is a crash. */
  expectingExit: boolean;
  readonly tail: string[];
}

export interface UnexpectedExit {
  readonly app: AppName;
  readonly replica: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lastLines: readonly string[];
}

/** Ends a wait at once: the awaited process is gone, polling longer cannot help. */
class ExitedDuringStart extends Error {}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const done = await check().catch((error: unknown) => {
      if (error instanceof ExitedDuringStart) throw error;
      return false;
    });
    if (done) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} not within ${timeoutMs} ms`);
}

/**
 * The whole pipeline as real processes — ACS emulator, orders, email-sender, status-poller, built from
 * `apps/<app>/dist` — against the real broker and PostgreSQL, isolated by a database and a topic suffix of its
 * own so that runs never see each other's messages. With `replicas`, orders, email-sender and status-poller run
 * as several processes each. Any replica can be killed and restarted (on the same port) for fault injection; a
 * process that exits without being asked to is recorded in `unexpectedExits`.
 *
 * Methods that take `replica` default to replica 0, the only one without `replicas`.
 */
export class Pipeline {
  readonly suffix: string;
  readonly databaseName: string;
  readonly databaseUrl: string;
  readonly kafkaBrokers: string;
  readonly logDir: string;
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly orders: OrdersApi;
  readonly emulator: AcsEmulatorClient;
  private readonly apps = new Map<AppName, readonly AppProcess[]>();
  private readonly signingKey: KeyObject;
  private readonly publicKeyPem: string;
  private stopped = false;

  private constructor(
    private readonly options: PipelineOptions,
    ports: Record<AppName, readonly { port: number; managementPort: number }[]>,
    private readonly database: TestDatabase,
  ) {
    this.suffix = `${options.label}-${randomUUID().slice(0, 8)}`;
    this.databaseName = database.name;
    this.databaseUrl = database.url;
    this.kafkaBrokers = options.kafkaBrokers ?? DEFAULT_KAFKA_BROKERS;
    this.logDir = mkdtempSync(join(tmpdir(), `pipeline-${options.label}-`));
    for (const name of APP_NAMES) {
      this.apps.set(
        name,
        ports[name].map(({ port, managementPort }, replica) => ({
          name,
          replica,
          port,
          managementPort,
          child: undefined,
          exited: Promise.resolve(),
          expectingExit: false,
          tail: [],
        })),
      );
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.signingKey = privateKey;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.orders = new OrdersApi(this.url('orders'), () => this.token('ttd'));
    this.emulator = new AcsEmulatorClient(this.url('acs-emulator'));
  }

  /** Creates the database, runs the orders migrations, starts every app's replicas and waits until all are ready. */
  static async start(options: PipelineOptions): Promise<Pipeline> {
    const replicas = options.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`replicas must be ≥ 1, got ${replicas}`);
    const replicasOf = (name: AppName): number =>
      (SCALED_APPS as readonly AppName[]).includes(name) ? replicas : 1;
    const ports = {} as Record<AppName, readonly { port: number; managementPort: number }[]>;
    for (const name of APP_NAMES) {
      const picked = await freePorts(replicasOf(name) * 2);
      const nextPort = (): number => {
        const port = picked.shift();
        if (port === undefined) throw new Error('freePorts returned fewer ports than asked for');
        return port;
      };
      ports[name] = Array.from({ length: replicasOf(name) }, () => ({
        port: nextPort(),
        managementPort: nextPort(),
      }));
    }
    // Empty: the orders migrations are run below by the app's own migration command, as in production.
    const database = await createTestDatabase({
      prefix: `e2e_${options.label}`,
      serverUrl: options.databaseServerUrl ?? DEFAULT_DATABASE_URL,
    });
    const pipeline = new Pipeline(options, ports, database);
    try {
      await pipeline.migrate();
      await pipeline.startApp('acs-emulator');
      await Promise.all(
        SCALED_APPS.flatMap((name) =>
          pipeline.app(name).map((replica) => pipeline.startApp(name, replica.replica)),
        ),
      );
    } catch (error) {
      await pipeline.stop();
      throw error;
    }
    return pipeline;
  }

  url(app: AppName, replica = 0): string {
    return `http://127.0.0.1:${this.replica(app, replica).port}`;
  }

  /** How many processes run `app` (its `replicas`). */
  replicaCount(app: AppName): number {
    return this.app(app).length;
  }

  /** The app's management listener; send `operatorToken()` with every request but /metrics and /status. */
  managementUrl(app: AppName, replica = 0): string {
    return `http://127.0.0.1:${this.replica(app, replica).managementPort}`;
  }

  /** A service owner's token for `org`, trusted by this run's orders app. */
  async token(org: string): Promise<string> {
    return new SignJWT({ org, 'urn:altinn:org': org, scope: NOTIFICATIONS_CREATE_SCOPE })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject(`e2e:${org}`)
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(this.signingKey);
  }

  /** An operator's token, trusted by this run's apps on their management listeners. */
  async operatorToken(): Promise<string> {
    return new SignJWT({ scope: OPERATOR_SCOPE })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject('e2e:operator')
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(this.signingKey);
  }

  /** A query on the run's database (e.g. counts by notification result for large runs). */
  readonly query: RowQuery = (sql, parameters) => this.database.dataSource.query(sql, [...parameters]);

  /** The last lines a replica printed (for failure messages). */
  lastLines(app: AppName, replica = 0): string {
    return this.replica(app, replica).tail.join('\n');
  }

  /** The replica's process id while it runs (the benchmark reads its CPU time and memory from /proc). */
  pid(app: AppName, replica = 0): number | undefined {
    return this.isRunning(app, replica) ? this.replica(app, replica).child?.pid : undefined;
  }

  isRunning(app: AppName, replica = 0): boolean {
    const child = this.replica(app, replica).child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** `kill -9` one replica: no shutdown hooks, no drain, no commit. */
  async kill(app: AppName, replica = 0): Promise<void> {
    await this.signal(app, replica, 'SIGKILL');
  }

  /** SIGTERM one replica and wait for its process to exit (graceful shutdown). */
  async terminate(app: AppName, replica = 0): Promise<void> {
    await this.signal(app, replica, 'SIGTERM');
  }

  /** Starts a replica (again) on its port and waits until its readiness endpoint answers 200. */
  async startApp(name: AppName, replica = 0): Promise<void> {
    const app = this.replica(name, replica);
    if (this.isRunning(name, replica)) throw new Error(`${this.describe(app)} is already running`);
    // One log per process; a single replica keeps the plain `<app>.log`.
    const logName = this.replicaCount(name) > 1 ? `${name}-${replica}.log` : `${name}.log`;
    const log: WriteStream = createWriteStream(join(this.logDir, logName), { flags: 'a' });
    const collect = (chunk: string): void => {
      log.write(chunk);
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        app.tail.push(line);
        if (app.tail.length > TAIL_LINES) app.tail.shift();
      }
    };
    const started = startAppProcess({
      nodeArgs: ['--enable-source-maps', ...appNodeArgs(name), ...(this.options.nodeArgs?.[name] ?? [])],
      args: [join(WORKSPACE_ROOT, 'apps', name, 'dist', 'main.js')],
      env: this.envFor(name, replica),
      inheritEnv: false,
      name: this.describe(app),
      // The log file and the tail above keep the output; the process keeps only a little.
      maxOutput: 10_000,
      onOutput: collect,
    });
    app.child = started.process;
    app.expectingExit = false;
    app.exited = started.exited.then(({ code, signal }) => {
      log.end();
      if (!app.expectingExit && !this.stopped) {
        this.unexpectedExits.push({ app: name, replica, code, signal, lastLines: [...app.tail] });
      }
    });
    await waitUntil(
      `${this.describe(app)} ready on port ${app.port}`,
      async () => {
        if (!this.isRunning(name, replica)) {
          throw new ExitedDuringStart(
            `${this.describe(app)} exited during start:\n${this.lastLines(name, replica)}`,
          );
        }
        const response = await fetch(`${this.url(name, replica)}/health/ready`);
        return response.ok;
      },
      READY_TIMEOUT_MS,
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n--- last lines of ${this.describe(app)} ---\n${this.lastLines(name, replica)}`,
      );
    });
  }

  /** Stops every app (SIGTERM, then SIGKILL), deletes the run's topics and drops its database. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      [...this.apps.values()].flat().map(async (app) => {
        if (!this.isRunning(app.name, app.replica)) return;
        app.expectingExit = true;
        app.child?.kill('SIGTERM');
        const timer = setTimeout(() => app.child?.kill('SIGKILL'), 30_000);
        await app.exited;
        clearTimeout(timer);
      }),
    );
    await this.deleteTopics().catch((error: unknown) =>
      console.warn(`pipeline ${this.suffix}: topics not deleted: ${String(error)}`),
    );
    await this.database
      .drop()
      .catch((error: unknown) =>
        console.warn(`pipeline ${this.suffix}: database not dropped: ${String(error)}`),
      );
  }

  private app(name: AppName): readonly AppProcess[] {
    const replicas = this.apps.get(name);
    if (replicas === undefined) throw new Error(`unknown app ${name}`);
    return replicas;
  }

  private replica(name: AppName, replica: number): AppProcess {
    const app = this.app(name)[replica];
    if (app === undefined)
      throw new Error(`${name} has no replica ${replica} (${this.replicaCount(name)} run)`);
    return app;
  }

  /** `orders`, or `orders #1` when the app runs as several replicas. */
  private describe(app: AppProcess): string {
    return this.replicaCount(app.name) > 1 ? `${app.name} #${app.replica}` : app.name;
  }

  private async signal(name: AppName, replica: number, signal: NodeJS.Signals): Promise<void> {
    const app = this.replica(name, replica);
    if (!this.isRunning(name, replica)) return;
    app.expectingExit = true;
    app.child?.kill(signal);
    await app.exited;
  }

  private async migrate(): Promise<void> {
    const child = startAppProcess({
      args: [join(WORKSPACE_ROOT, 'apps', 'orders', 'dist', 'migrate.js')],
      env: this.envFor('orders', 0),
      inheritEnv: false,
      name: 'orders migrations',
    });
    const { code } = await child.exited;
    if (code !== 0) throw new Error(`orders migrations failed (exit ${String(code)}):\n${child.output()}`);
  }

  /** Replicas of an app differ only in their port (same settings, consumer groups and database). */
  private envFor(name: AppName, replica: number): NodeJS.ProcessEnv {
    const acsConnectionString = this.emulator.connectionString();
    const common: Record<string, string> = {
      HOST: '127.0.0.1',
      PORT: String(this.replica(name, replica).port),
      MANAGEMENT_PORT: String(this.replica(name, replica).managementPort),
      // The run's key signs operator tokens too (operatorToken()).
      OPERATOR_AUTH_JWT_PUBLIC_KEY: this.publicKeyPem,
      KAFKA_BROKERS: this.kafkaBrokers,
      KAFKA_TOPIC_SUFFIX: this.suffix,
      KAFKA_TOPIC_PARTITIONS: String(this.options.partitions ?? 6),
      ...(this.options.replicationFactor === undefined
        ? {}
        : { KAFKA_TOPIC_REPLICATION_FACTOR: String(this.options.replicationFactor) }),
      KAFKA_TOPIC_RETENTION_MS: '1h',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    };
    const perApp: Record<AppName, Record<string, string>> = {
      'acs-emulator': {
        // Whether ACS treats a repeated Operation-Id as the same send is not documented, so every run assumes it
        // does not: a repeated id is a second email, and the "duplicated" checks count what real ACS could send.
        ACS_DEDUPLICATE_OPERATION_ID: 'false',
        ACS_DELIVERY_REPORT_WEBHOOK: `${this.url('status-poller')}/notifications/email/api/v1/reports`,
        ACS_DELIVERY_REPORT_ACCESS_KEY: DELIVERY_REPORT_ACCESS_KEY,
      },
      orders: {
        DATABASE_URL: this.databaseUrl,
        AUTH_JWT_PUBLIC_KEY: this.publicKeyPem,
        // The operator console's pipeline page asks the peers (replica 0) on their management listeners.
        EMAIL_SENDER_MANAGEMENT_URL: this.managementUrl('email-sender'),
        STATUS_POLLER_MANAGEMENT_URL: this.managementUrl('status-poller'),
      },
      'email-sender': { ACS_CONNECTION_STRING: acsConnectionString },
      'status-poller': {
        ACS_CONNECTION_STRING: acsConnectionString,
        DELIVERY_REPORT_ACCESS_KEY,
      },
    };
    // Only PATH-like basics from the test runner: the apps must not pick up the runner's own settings.
    const inherited: Record<string, string> = {};
    for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
      const value = process.env[key];
      if (value !== undefined) inherited[key] = value;
    }
    return { ...inherited, ...common, ...perApp[name], ...(this.options.env?.[name] ?? {}) };
  }

  /**
   * A kafkajs client of this run (admin, plus a producer when `withProducer`) and the run's topic names, for the
   * fault cases and the teardown. The suffix ends most names; status-poller's delay tiers carry it before
   * `.delay.<interval>`.
   */
  async withKafka<T>(
    use: (kafka: { admin: Admin; producer: Producer; runTopics: () => Promise<string[]> }) => Promise<T>,
    withProducer = false,
  ): Promise<T> {
    const kafka = new Kafka({
      clientId: `pipeline-${this.suffix}`,
      brokers: this.kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), withProducer ? producer.connect() : undefined]);
    try {
      const runTopics = async (): Promise<string[]> =>
        (await admin.listTopics()).filter((topic) => topic.includes(`.${this.suffix}`));
      return await use({ admin, producer, runTopics });
    } finally {
      await Promise.all([admin.disconnect(), withProducer ? producer.disconnect() : undefined]);
    }
  }

  private async deleteTopics(): Promise<void> {
    await this.withKafka(async ({ admin, runTopics }) => {
      const ours = await runTopics();
      if (ours.length > 0) await admin.deleteTopics({ topics: ours, timeout: 30_000 });
    });
  }
}
