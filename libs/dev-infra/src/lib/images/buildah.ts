import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { run } from '../processes';

// Buildah without a daemon: the `vfs` storage driver (no overlay mounts in this sandbox; every layer is a full
// copy, see deploy/README.md "Building without Docker") and `chroot` isolation (no user or PID namespace, no
// network namespace: a container shares the host's network, so it reaches the local broker and PostgreSQL on
// 127.0.0.1).
const GLOBAL_ARGS = ['--storage-driver', 'vfs'] as const;
export const ISOLATION = ['--isolation', 'chroot'] as const;

export function buildah(args: readonly string[]): Promise<string> {
  return run('buildah', [...GLOBAL_ARGS, ...args]);
}

/** `buildah --version`, or undefined when it is not installed. */
export async function buildahVersion(): Promise<string | undefined> {
  try {
    return (await run('buildah', ['--version'])).trim();
  } catch {
    return undefined;
  }
}

export async function imageExists(image: string): Promise<boolean> {
  try {
    await buildah(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', image]);
    return true;
  } catch {
    return false;
  }
}

/** What an image runs and how: the parts of its configuration `buildah run` needs spelled out. */
export interface ImageConfig {
  readonly id: string;
  /** ENTRYPOINT followed by CMD, as a container engine would start it. */
  readonly command: readonly string[];
  readonly user: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface InspectedImage {
  readonly FromImageID: string;
  readonly OCIv1: {
    readonly config?: {
      readonly Entrypoint?: string[] | null;
      readonly Cmd?: string[] | null;
      readonly User?: string;
      readonly Labels?: Record<string, string> | null;
    };
  };
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  const inspected = JSON.parse(await buildah(['inspect', '--type', 'image', image])) as InspectedImage;
  const config = inspected.OCIv1.config ?? {};
  return {
    id: inspected.FromImageID,
    command: [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])],
    user: config.User ?? '',
    labels: config.Labels ?? {},
  };
}

/** The image's size as `buildah images` shows it ("412 MB"). */
export async function imageSize(image: string): Promise<string> {
  const listed = JSON.parse(await buildah(['images', '--json', image])) as { size?: string }[];
  return listed[0]?.size ?? '?';
}

/** A working container of `image` (nothing runs in it until `buildah run`). */
export async function createContainer(image: string, name: string): Promise<string> {
  return (await buildah(['from', '--pull=never', '--name', name, image])).trim();
}

export async function removeContainer(container: string): Promise<void> {
  await buildah(['rm', container]);
}

/** The names of working containers whose name starts with `prefix` (left over by an interrupted run). */
export async function containersNamed(prefix: string): Promise<string[]> {
  // buildah prints `null` when there is none
  const listed = (JSON.parse(await buildah(['containers', '--json'])) ?? []) as { containername: string }[];
  return listed.map((container) => container.containername).filter((name) => name.startsWith(prefix));
}

/** The container's root filesystem on the host, checked to be a directory (never an empty path). */
export async function mountContainer(container: string): Promise<string> {
  const dir = (await buildah(['mount', container])).trim();
  if (dir === '' || dir === '/' || !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`buildah mount ${container} gave no directory ('${dir}')`);
  }
  return dir;
}

export interface RunInContainer {
  readonly env?: Readonly<Record<string, string>>;
  readonly user?: string;
}

function runArgs(container: string, command: readonly string[], options: RunInContainer): string[] {
  return [
    ...GLOBAL_ARGS,
    'run',
    ...ISOLATION,
    '--network',
    'host',
    ...(options.user === undefined ? [] : ['--user', options.user]),
    ...Object.entries(options.env ?? {}).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    container,
    '--',
    ...command,
  ];
}

/** Runs a command in the container to completion; resolves its output. */
export function runInContainer(
  container: string,
  command: readonly string[],
  options: RunInContainer = {},
): Promise<string> {
  return run('buildah', runArgs(container, command, options));
}

/** A long-running command in the container (an app), in a process group of its own so that it can be stopped. */
export function startInContainer(
  container: string,
  command: readonly string[],
  options: RunInContainer & { readonly logFile: string },
): { pid: number; exited: Promise<number | null> } {
  const logFd = fs.openSync(options.logFile, 'w');
  const child = spawn('buildah', runArgs(container, command, options), {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  if (child.pid === undefined) throw new Error(`buildah run ${container} started without a pid`);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  return { pid: child.pid, exited };
}

export interface BuildStep {
  /** `[2/10] STEP 3/3: RUN npm ci …` as buildah prints it */
  readonly step: string;
  readonly cached: boolean;
}

export interface BuildResult {
  readonly steps: readonly BuildStep[];
  /** steps buildah took from the layer cache (its "Using cache" lines) */
  readonly cacheHits: number;
}

/**
 * `buildah build` of one target, at low CPU priority (the machines are shared), its output in `logFile`; `onStep`
 * sees each step once buildah knows whether it came from the layer cache.
 */
export function buildTarget(options: {
  readonly context: string;
  readonly target: string;
  readonly tag: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly logFile: string;
  readonly onStep: (step: BuildStep) => void;
}): Promise<BuildResult> {
  const args = [
    '-n',
    '10',
    'buildah',
    ...GLOBAL_ARGS,
    'build',
    ...ISOLATION,
    // Docker's image format keeps HEALTHCHECK (the OCI format has no such field and buildah would drop it).
    '--format',
    'docker',
    // Every instruction's result is kept as an image, so a second build reuses what has not changed.
    '--layers',
    ...Object.entries(options.buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
    '--target',
    options.target,
    '--tag',
    options.tag,
    options.context,
  ];
  return new Promise((resolve, reject) => {
    const log = fs.createWriteStream(options.logFile);
    const child = spawn('nice', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const steps: BuildStep[] = [];
    let cacheHits = 0;
    let pending: string | undefined;
    let partial = '';
    // A step is reported once buildah says it came from the cache (at once), or after a second without that
    // answer (it is being built): a long step shows while it runs, not when it is over.
    let timer: NodeJS.Timeout | undefined;
    const settle = (cached: boolean): void => {
      clearTimeout(timer);
      if (pending === undefined) return;
      const step = { step: pending, cached };
      steps.push(step);
      options.onStep(step);
      pending = undefined;
    };
    const onLine = (line: string): void => {
      if (/^(\[\d+\/\d+\] )?STEP \d+\/\d+: /.test(line)) {
        settle(false);
        pending = line;
        timer = setTimeout(() => settle(false), 1_000);
      } else if (line.startsWith('--> Using cache')) {
        cacheHits += 1;
        settle(true);
      }
    };
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', (code) => {
      settle(false);
      log.end();
      if (code === 0) resolve({ steps, cacheHits });
      else reject(new Error(`buildah build --target ${options.target} exited with ${String(code)}`));
    });
  });
}
