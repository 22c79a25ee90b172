import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that the summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time. */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly wallMs: number;
  readonly busyMs: number;
  /** Self time per function (name and location), highest first. */
  readonly functions: readonly SelfTime[];
  /** Self time per package: an npm package, `node:<module>`, an app or lib of this repo, or a V8 category. */
  readonly packages: readonly SelfTime[];
}

const V8_CATEGORIES = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** Which package a frame belongs to, from its script URL. */
function packageOf(url: string, functionName: string): string {
  if (V8_CATEGORIES.has(functionName) && url === '') return functionName;
  if (url === '') return '(native)';
  if (url.startsWith('node:')) {
    // node:internal/streams/readable → node:streams
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? (parts[1] ?? 'internal') : (parts[0] ?? '')}`;
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scopeOrName, name] = url.slice(modules + '/node_modules/'.length).split('/');
    return scopeOrName?.startsWith('@') ? `${scopeOrName}/${name ?? ''}` : (scopeOrName ?? url);
  }
  const repo = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (repo) return `${repo[1] === 'apps' ? 'app' : 'lib'}:${repo[2] ?? ''}`;
  return url;
}

function shortLocation(url: string, line: number): string {
  if (url === '') return '';
  const modules = url.lastIndexOf('/node_modules/');
  const tail =
    modules >= 0 ? url.slice(modules + '/node_modules/'.length) : url.replace(/^.*\/(apps|libs)\//, '$1/');
  return `${tail.replace(/^file:\/\//, '')}:${line + 1}`;
}

function top(map: Map<string, number>, busyMs: number, count: number): SelfTime[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({
      name,
      selfMs: Math.round(ms),
      pct: busyMs > 0 ? Math.round((1000 * ms) / busyMs) / 10 : 0,
    }));
}

/** Self time per function and per package of one profile; idle time is left out of the percentages. */
export function summarizeProfile(file: string, count = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const wallUs = profile.endTime - profile.startTime;
  const fallbackUs = samples.length > 0 ? wallUs / samples.length : 0;
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let busyMs = 0;
  samples.forEach((id, index) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    // A sample's duration is the gap to the next one (timeDeltas[i] is the gap before sample i).
    const ms = (deltas[index + 1] ?? fallbackUs) / 1000;
    if (frame.functionName === '(idle)') return;
    busyMs += ms;
    const name =
      `${frame.functionName || '(anonymous)'} ${shortLocation(frame.url, frame.lineNumber)}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const pkg = packageOf(frame.url, frame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
  });
  return {
    file,
    wallMs: Math.round(wallUs / 1000),
    busyMs: Math.round(busyMs),
    functions: top(functions, busyMs, count),
    packages: top(packages, busyMs, count),
  };
}

/** Summaries of every `.cpuprofile` in `dir` (one per process that exited normally). */
export function summarizeProfiles(dir: string, count = 15): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return files.map((file) => summarizeProfile(path.join(dir, file), count));
}
