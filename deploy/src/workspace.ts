import { join } from 'node:path';

/** The repository root (this project is `deploy/`). */
export const WORKSPACE_ROOT = join(__dirname, '..', '..');

/** The apps that ship as images, with the port each listens on by default. */
export const APPS = [
  { name: 'orders', port: 5090 },
  { name: 'email-sender', port: 5091 },
  { name: 'status-poller', port: 5092 },
  { name: 'acs-emulator', port: 5099 },
] as const;

/** The operator CLI that every image carries (`node apps/ops/dist/main.js <command>`). */
export const OPS_MAIN = 'apps/ops/dist/main.js';

/** Workspace directory of the root image (`WORKDIR /app`). */
export const IMAGE_WORKDIR = '/app';
