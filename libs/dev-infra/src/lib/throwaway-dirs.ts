import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, type Log, readState, rel } from './processes';

// Isolated brokers, clusters and PostgreSQL instances are throw-away: each lives in a directory of its own under
// one parent (.infra/kafka-isolated/, .infra/kafka-clusters/, .infra/postgres-isolated/) with a state file that
// names the process owning it. The rules for those directories are the same for the three kinds, so they are here.

/** The state every throw-away instance records: the process whose exit makes it an orphan. */
export interface OwnedState {
  readonly owner: number;
}

/** A directory's children, or none when it does not exist yet. */
export function childDirs(parent: string): string[] {
  try {
    return fs.readdirSync(parent);
  } catch {
    return [];
  }
}

/**
 * `dir` resolved, when it is a direct child of `parent`; otherwise an error. Stop and restart functions delete or
 * rewrite the directory they are given, so they accept only one of their own kind.
 */
export function throwawayDir(dir: string, parent: string, kind: string): string {
  const resolved = path.resolve(dir);
  if (path.dirname(resolved) !== parent) {
    throw new Error(`${dir} is not an isolated ${kind} directory (expected one under ${rel(parent)})`);
  }
  return resolved;
}

/**
 * Stops the instances under `parent` whose owner is gone (a test run killed before its afterAll) and returns their
 * names. A directory without a state file may be being created by another process right now: it is left a minute.
 */
export async function reapOrphans(
  parent: string,
  stateFileOf: (dir: string) => string,
  kind: string,
  stop: (dir: string) => Promise<unknown>,
  log: Log,
): Promise<string[]> {
  const reaped: string[] = [];
  for (const entry of childDirs(parent)) {
    const dir = path.join(parent, entry);
    const state = readState<OwnedState>(stateFileOf(dir));
    const age = Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    const orphan = state ? !isAlive(state.owner) : age > 60_000;
    if (!orphan) continue;
    log(`stopping isolated ${kind} ${entry} (its owner ${state?.owner ?? '?'} is gone)`);
    await stop(dir);
    reaped.push(entry);
  }
  return reaped;
}

/** Names become part of a directory name and of process command lines: letters, digits, `_` and `-` only. */
export function assertInstanceName(name: string, caller: string): void {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new Error(`${caller}: invalid name "${name}"`);
}

/** A new instance's directory, `<name>-<pid>-<random>` under `parent`, created. */
export function createThrowawayDir(parent: string, name: string): { id: string; dir: string } {
  const id = `${name}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const dir = path.join(parent, id);
  fs.mkdirSync(dir, { recursive: true });
  return { id, dir };
}
