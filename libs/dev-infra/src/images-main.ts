// The container images, built and started without a Docker engine (npm run images runs it):
//
//   images [--build-only | --no-build] [--rebuild-base] [--prune]
//
//   1. base images: Debian bookworm (debootstrap) and Node <scripts/node-env.sh's version> on it (built once);
//   2. every app target of the root Dockerfile, with NODE_IMAGE set to that Node base (buildah, vfs storage,
//      chroot isolation, layer cache: a second run rebuilds only what changed);
//   3. unless --build-only: the local broker and PostgreSQL (started when not running, stopped again if started
//      here), the orders migrations from the orders image, every image's entry point until /health/ready answers,
//      and the operator CLI from the orders image; every container is removed at the end.
//
//   --no-build      start the images built by an earlier run (steps 1 and 2 skipped)
//   --rebuild-base  build the Debian and Node base images again (e.g. for Debian's security updates)
//   --prune         remove the layer cache afterwards (the vfs driver stores every layer as a full copy; see
//                   deploy/README.md): the next run builds from scratch
//
// Needs Linux, root (debootstrap, buildah's chroot isolation) and the Debian packages buildah and debootstrap
// (installed with apt-get when missing). See deploy/README.md "Building without Docker". Exit codes: 0 done,
// 1 failed (one line says what), 2 usage error.
import fs from 'node:fs';
import { down, up } from './lib/infra';
import { buildah, buildahVersion, imageExists, imageSize } from './lib/images/buildah';
import {
  ensureDebianImage,
  ensureNodeImage,
  nodeImageName,
  provisionedNodeVersion,
} from './lib/images/base-images';
import {
  APP_TARGETS,
  appImageName,
  type BuiltImage,
  buildAppImages,
  smokeTestImages,
} from './lib/images/app-images';
import { DEFAULT_DATABASE_URL } from './lib/postgres';
import { errorMessage, run, seconds } from './lib/processes';

const USAGE = 'usage: images [--build-only | --no-build] [--rebuild-base] [--prune]';
const STORAGE = '/var/lib/containers/storage';
const READY_TIMEOUT_MS = 180_000;

const say = (message: string): void => console.log(`[images] ${message}`);

function freeGb(): string {
  const stats = fs.statfsSync(fs.existsSync(STORAGE) ? STORAGE : '/var/lib');
  return `${((stats.bavail * stats.bsize) / 1e9).toFixed(1)} GB`;
}

async function ensureTools(): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the images are built on Linux x64 only (this is ${process.platform} ${process.arch})`);
  }
  const missing = async (): Promise<boolean> =>
    (await buildahVersion()) === undefined ||
    !(await run('sh', ['-c', 'command -v debootstrap']).then(
      () => true,
      () => false,
    ));
  if (await missing()) {
    if (process.getuid?.() !== 0)
      throw new Error('buildah and debootstrap are missing: apt-get install buildah debootstrap (as root)');
    say('installing buildah and debootstrap (apt-get) …');
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'buildah', 'debootstrap']);
  }
  if (process.getuid?.() !== 0) throw new Error('debootstrap and buildah chroot isolation need root');
  return (await buildahVersion()) ?? 'buildah';
}

async function main(argv: readonly string[]): Promise<number> {
  const known = new Set(['--build-only', '--no-build', '--rebuild-base', '--prune']);
  const unknown = argv.filter((arg) => !known.has(arg));
  if (unknown.length > 0) {
    console.error(`unknown option(s): ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  const flags = new Set(argv);
  const started = Date.now();
  let infraStarted = { kafka: false, postgres: false };
  try {
    const version = await ensureTools();
    say(`${version}, vfs storage in ${STORAGE}, ${freeGb()} free`);

    const built: BuiltImage[] = [];
    if (flags.has('--no-build')) {
      for (const target of APP_TARGETS) {
        const image = appImageName(target);
        if (!(await imageExists(image))) throw new Error(`${image} does not exist: run npm run images first`);
        built.push({ target, image, size: await imageSize(image), ms: 0, steps: 0, cachedSteps: 0 });
      }
    } else {
      const nodeVersion = provisionedNodeVersion();
      const npmVersion = (await run('npm', ['--version'])).trim();
      const rebuild = flags.has('--rebuild-base');
      const debian = await ensureDebianImage({ rebuild, log: say });
      say(`${debian.image}: ${debian.built ? `built in ${seconds(debian.ms)}` : 'reused'}`);
      const node = await ensureNodeImage({ nodeVersion, npmVersion, rebuild, log: say });
      say(`${node.image}: ${node.built ? `built in ${seconds(node.ms)}` : 'reused'}`);

      const buildStarted = Date.now();
      built.push(...(await buildAppImages({ nodeImage: nodeImageName(nodeVersion), log: say })));
      say(`all ${built.length} images built in ${seconds(Date.now() - buildStarted)}; ${freeGb()} free`);
    }

    let ready: Awaited<ReturnType<typeof smokeTestImages>> | undefined;
    if (!flags.has('--build-only')) {
      const infra = await up({ quiet: true });
      infraStarted = {
        kafka: infra.kafka?.action.startsWith('started') ?? false,
        postgres: infra.postgres?.action.startsWith('started') ?? false,
      };
      say(
        `kafka ${infra.kafka?.action ?? '?'} (${infra.kafka?.brokers ?? '?'}), postgres ${infra.postgres?.action ?? '?'}`,
      );
      ready = await smokeTestImages({
        kafkaBrokers: infra.kafka?.brokers ?? '127.0.0.1:9092',
        databaseServerUrl: process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL,
        readyTimeoutMs: READY_TIMEOUT_MS,
        log: say,
      });
    }

    if (flags.has('--prune')) {
      // Only untagged images go: the layer cache. The base and app images stay.
      await buildah(['rmi', '--prune']);
      say(`layer cache removed; ${freeGb()} free`);
    }

    say('summary');
    for (const image of built) {
      const readyMs = ready?.apps.find((app) => app.target === image.target)?.ms;
      const build =
        image.ms === 0
          ? 'not built (--no-build)'
          : `built in ${seconds(image.ms)} (${image.cachedSteps}/${image.steps} steps cached)`;
      console.log(
        `  ${appImageName(image.target).padEnd(44)} ${image.size.padStart(8)}  ${build}` +
          (readyMs === undefined ? '' : `, ready in ${seconds(readyMs)}`),
      );
    }
    if (ready)
      console.log(
        `  orders migrations ${seconds(ready.migrationsMs)}; ops CLI: ${ready.opsCommands.join(', ')}`,
      );
    say(
      `done in ${seconds(Date.now() - started)} (${APP_TARGETS.length} images${ready ? ', each ready' : ''})`,
    );
    return 0;
  } catch (error) {
    console.error(`[images] failed: ${errorMessage(error).split('\n')[0] ?? ''}`);
    return 1;
  } finally {
    if (infraStarted.kafka || infraStarted.postgres) {
      await down({ ...infraStarted, quiet: true }).catch(() => undefined);
      say('stopped the infrastructure started for this run');
    }
  }
}

// kafkajs 2.2.4 schedules setTimeout(-1 - Date.now()) in its request queue; Node >= 24 warns about it
// (TimeoutNegativeWarning). Harmless; keep the output clean.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.warn(`${warning.name}: ${warning.message}`);
});

void main(process.argv.slice(2)).then((code) => process.exit(code));
