import { readFileSync, writeFileSync } from 'node:fs';

/** A process's memory as Linux reports it in /proc/<pid>/status (proc(5)), in MB. */
export interface ProcessMemory {
  /** Resident set size (`VmRSS`). */
  readonly rssMb: number;
  /** Its anonymous part (`RssAnon`): heaps and arenas, without the binary's and libraries' file-backed pages. */
  readonly anonMb: number;
  /** Peak resident set size since the process started or since `resetPeakRss` (`VmHWM`). */
  readonly peakRssMb: number;
}

/** The memory of process `pid`, undefined when it cannot be read (gone, or not Linux). For benchmarks. */
export function processMemory(pid: number): ProcessMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const mb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { rssMb: mb('VmRSS'), anonMb: mb('RssAnon'), peakRssMb: mb('VmHWM') };
}

/**
 * Resets the process's peak RSS (`VmHWM`) to its current RSS, so that a phase's peak is its own: writing 5 to
 * /proc/<pid>/clear_refs (Linux ≥ 4.0, proc(5)). Only for processes the caller started; false where not allowed.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
