import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Where Debian's `chromium` package puts the browser (CHROMIUM_PATH overrides). */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of a Chromium to drive, installing Debian's package (`apt-get install -y chromium`) when there is
 * none — the browser is a system package, not an npm download, so it gets the distribution's security updates.
 * Throws one readable sentence when it cannot: not root, no apt-get, or the install failed.
 */
export function chromiumExecutable(): string {
  const configured = process.env['CHROMIUM_PATH'];
  if (configured !== undefined && configured !== '') {
    if (!executable(configured)) throw new Error(`CHROMIUM_PATH=${configured} is not an executable file`);
    return configured;
  }
  if (executable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const install = (args: readonly string[]): void => {
    execFileSync('apt-get', [...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
  };
  try {
    try {
      install(['install', '-y', '--no-install-recommends', 'chromium']);
    } catch {
      // A fresh machine may have no package lists yet.
      install(['update']);
      install(['install', '-y', '--no-install-recommends', 'chromium']);
    }
  } catch (error) {
    const stderr =
      (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() ?? String(error);
    throw new Error(
      `The console test needs Chromium and could not install it (apt-get install -y chromium: ${stderr}). ` +
        'Install it as root, or set CHROMIUM_PATH to a Chromium or Chrome binary.',
      { cause: error },
    );
  }
  if (!executable(DEBIAN_CHROMIUM))
    throw new Error(`apt-get installed chromium but ${DEBIAN_CHROMIUM} is missing`);
  return DEBIAN_CHROMIUM;
}
