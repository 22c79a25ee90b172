import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the development signing key lives (git-ignored, created on first use): `.dev/` at the workspace root, one
 * key per checkout for every app (orders' public API tokens and every app's operator tokens). This file is
 * `libs/config/{src,dist}/dev-key/`, so the root is four levels up either way.
 */
export const DEFAULT_DEV_KEY_FILE = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  '.dev',
  'jwt-dev-key.json',
);

/** The development signing key: trusted only by development/test configurations, never by production. */
export interface DevKey {
  readonly kid: string;
  readonly algorithm: 'EdDSA';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

interface DevKeyFile {
  readonly kid: string;
  readonly algorithm: 'EdDSA';
  readonly note: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/**
 * Reads the development key pair, generating it on first use (Ed25519, file mode 0600, git-ignored). Generating
 * rather than committing a key keeps private key material out of the repository and makes every checkout's
 * tokens its own. Two processes starting together (the app and `npm run token`) agree on one key: the file is
 * published atomically with link(2), which fails if another process got there first.
 */
export function loadOrCreateDevKey(file: string): DevKey {
  const existing = readDevKey(file);
  if (existing !== undefined) return existing;
  mkdirSync(path.dirname(file), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const content: DevKeyFile = {
    kid: `dev-${randomUUID().slice(0, 8)}`,
    algorithm: 'EdDSA',
    note: 'Development-only JWT signing key (npm run token, npm run ops). Never use it anywhere else.',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  const temporary = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(temporary, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  const stored = readDevKey(file);
  if (stored === undefined) throw new Error(`Could not create the development key ${file}`);
  return stored;
}

function readDevKey(file: string): DevKey | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const content = JSON.parse(text) as Partial<DevKeyFile>;
  if (typeof content.privateKeyPem !== 'string' || typeof content.publicKeyPem !== 'string') {
    throw new Error(`${file} is not a development key file (delete it to generate a new one)`);
  }
  return {
    kid: content.kid ?? 'dev',
    algorithm: 'EdDSA',
    privateKey: createPrivateKey(content.privateKeyPem),
    publicKey: createPublicKey(content.publicKeyPem),
  };
}
