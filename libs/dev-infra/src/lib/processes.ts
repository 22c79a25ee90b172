import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Where progress lines go (`console.log` for the CLI, nowhere by default for tests). */
export type Log = (message: string) => void;

export const ignore = (): undefined => undefined;

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A path as the user typed it: relative to the working directory. */
export const rel = (file: string): string => path.relative(process.cwd(), file) || '.';

export function envFlag(name: string): boolean {
  return /^(1|true|yes|on)$/i.test(process.env[name] ?? '');
}

export function envInt(name: string, fallback: number): number {
  const n = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Alive and not a zombie. */
export function isAlive(pid: number | undefined): pid is number {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (errorCode(error) !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

export function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Child pids of `parent` (from /proc/<pid>/stat: pid (comm) state ppid …). */
export function childrenOf(parent: number): number[] {
  let entries: string[];
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

export function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0]?.trim() ?? '', 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A state file this tool wrote itself (so its shape is known); undefined when missing or unreadable. */
export function readState<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeState(file: string, state: unknown): void {
  fs.writeFileSync(file, JSON.stringify(state, null, 2) + '\n');
}

export interface StopOptions {
  readonly signal?: NodeJS.Signals;
  readonly timeoutMs?: number;
  readonly label?: string;
  readonly log?: Log;
}

/** SIGTERM (or `signal`), wait, then SIGKILL. Resolves true if it had to be killed. */
export async function stopProcess(pid: number, options: StopOptions = {}): Promise<boolean> {
  const { signal = 'SIGTERM', timeoutMs = 30_000, label = `pid ${pid}`, log } = options;
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

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${rel(file)})`;
  }
}

export function rotateLog(file: string, maxBytes = 20 * 1024 * 1024): void {
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (size > maxBytes) fs.renameSync(file, `${file}.1`);
}

export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The first port of the kernel's ephemeral range (Linux: `net.ipv4.ip_local_port_range`, default 32768). Outgoing
 * connections take their local port from that range, so a port picked inside it and released can be taken by any
 * client connection (a Kafka client's, say) before the server meant for it binds it: CI saw `EADDRINUSE` that way.
 */
function ephemeralRangeStart(): number {
  try {
    const [low] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const port = Number.parseInt(low ?? '', 10);
    if (Number.isInteger(port) && port > 2048) return port;
  } catch {
    // not Linux: fall through to the usual default
  }
  return 32768;
}

/**
 * Above every port on the Fetch standard's "bad ports" list (the highest is 10080), which Node's `fetch` refuses
 * to connect to (https://fetch.spec.whatwg.org/#port-blocking): a readiness check by `fetch` on such a port never
 * succeeds. A benchmark waited 300 s for an emulator on 10080 that way.
 */
const LOWEST_PICKED_PORT = 15_000;

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface FreePortsOptions {
  readonly host?: string;
  /** Where to pick from (default: 15 000 up to the ephemeral range). */
  readonly lowest?: number;
  readonly highest?: number;
}

/**
 * Free TCP ports for servers started later (possibly restarted on the same port): picked at random below the
 * ephemeral range, so no outgoing connection can take one meanwhile, and each checked free by a bind. A random
 * starting point keeps concurrent test workers apart.
 */
export async function freePorts(count: number, options: FreePortsOptions = {}): Promise<number[]> {
  const { host = '127.0.0.1', lowest = LOWEST_PICKED_PORT, highest = ephemeralRangeStart() - 1 } = options;
  const span = highest - lowest + 1;
  const picked = new Set<number>();
  const start = Math.floor(Math.random() * span);
  for (let step = 0; picked.size < count && step < span; step += 1) {
    const port = lowest + ((start + step) % span);
    if (await bindable(port, host)) picked.add(port);
  }
  if (picked.size < count) throw new Error(`no ${count} free TCP ports on ${host} in ${lowest}–${highest}`);
  return [...picked];
}

/** One port as {@link freePorts} picks them. */
export async function freePort(options: FreePortsOptions = {}): Promise<number> {
  const [port] = await freePorts(1, options);
  if (port === undefined) throw new Error('no free TCP port');
  return port;
}

export interface RunOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion; resolves its interleaved output, rejects with it on a non-zero exit. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with ${code}\n${out}`));
    });
  });
}

export interface DetachedProcess {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts a process that outlives this one (a broker, a database server); resolves its pid once it runs. */
export async function spawnDetached(options: DetachedProcess): Promise<number> {
  const logFd = fs.openSync(options.logFile, 'a');
  if (options.uid !== undefined && options.gid !== undefined) fs.fchownSync(logFd, options.uid, options.gid);
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    ...(options.uid !== undefined && options.gid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  fs.closeSync(logFd);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`${options.command} started without a pid`);
  return child.pid;
}

/** One holder at a time of the lock directory `lockDir` (`up`/`down` from scripts/start.mjs and test.mjs may race). */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>, timeoutMs = 240_000): Promise<T> {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      const owner = readPid(path.join(lockDir, 'pid'));
      if (owner !== undefined && !isAlive(owner)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (owner === undefined) {
        // just created by another process, or left behind half-written
        const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 5000) fs.rmSync(lockDir, { recursive: true, force: true });
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${rel(lockDir)} (held by ${owner})`, { cause: error });
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
