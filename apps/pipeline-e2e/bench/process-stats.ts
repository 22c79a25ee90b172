import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processMemory, resetPeakRss } from '@notifications/testing';

// CPU time and memory of processes and of the whole machine, from Linux's /proc. Off Linux every reading is
// undefined and the benchmark reports what it has.

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
const TICK_MS = 1000 / CLOCK_TICKS_PER_SECOND;

export interface ProcessReading {
  /** utime + stime since the process started. */
  readonly cpuMs: number;
  readonly rssMb: number;
  /** Peak resident set size since the process started (`VmHWM`). */
  readonly peakRssMb: number;
}

export function readProcess(pid: number): ProcessReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const memory = processMemory(pid);
    if (memory === undefined) return undefined;
    return {
      cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      rssMb: memory.rssMb,
      peakRssMb: memory.peakRssMb,
    };
  } catch {
    return undefined;
  }
}

/** Direct children of this process (from /proc/<pid>/stat's ppid field), e.g. to stop them on a signal. */
export function childPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((entry) => {
        try {
          const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
          // Fields after the parenthesised command name: state, then ppid.
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

export interface MachineReading {
  readonly busyMs: number;
  readonly totalMs: number;
}

/** Busy and total CPU time of all cores since boot (`/proc/stat`). */
export function readMachine(): MachineReading | undefined {
  try {
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = cpu.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { busyMs: (total - idle) * TICK_MS, totalMs: total * TICK_MS };
  } catch {
    return undefined;
  }
}

/**
 * The local broker's JVM: the pid `libs/dev-infra` recorded in this checkout's `.infra/kafka/broker.json`, or
 * else the one process whose command line runs `kafka.Kafka` (the broker may have been started from another
 * checkout of the repository).
 */
export function findBrokerPid(workspaceRoot: string): number | undefined {
  const state = path.join(workspaceRoot, '.infra', 'kafka', 'broker.json');
  if (existsSync(state)) {
    const pid = (JSON.parse(readFileSync(state, 'utf8')) as { pid?: unknown }).pid;
    if (typeof pid === 'number' && existsSync(`/proc/${pid}/stat`)) return pid;
  }
  try {
    const brokers = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((entry) => {
        try {
          return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka');
        } catch {
          return false;
        }
      });
    return brokers.length === 1 ? Number(brokers[0]) : undefined;
  } catch {
    return undefined;
  }
}

export interface GroupUsage {
  /** CPU seconds between `start()` and `stop()`. */
  readonly cpuSeconds: number;
  /** Highest resident set size seen while sampling (sum over the group's processes). */
  readonly maxRssMb: number;
  /** Highest `VmHWM` of the group's processes at the end (peak since each process started). */
  readonly peakRssMb: number;
}

/**
 * CPU and memory of named groups of processes over a measured window. A group's pids are looked up at every
 * sample, so processes that come and go (PostgreSQL backends) are counted from the sample they first appear in.
 */
export class ProcessMeter {
  private firstCpu = new Map<string, Map<number, number>>();
  private lastCpu = new Map<string, Map<number, number>>();
  private maxRss = new Map<string, number>();
  private peakRss = new Map<string, number>();
  private machineStart: MachineReading | undefined;
  private machineLast: MachineReading | undefined;

  constructor(private readonly groups: Readonly<Record<string, () => Promise<readonly number[]>>>) {}

  get names(): string[] {
    return Object.keys(this.groups);
  }

  /** Starts a window; `resetPeakOf` are the pids whose peak RSS should restart from now (see resetPeakRss). */
  async start(resetPeakOf: readonly number[] = []): Promise<void> {
    for (const pid of resetPeakOf) resetPeakRss(pid);
    this.firstCpu = new Map();
    this.lastCpu = new Map();
    this.maxRss = new Map();
    this.peakRss = new Map();
    this.machineStart = readMachine();
    await this.sample();
  }

  /** Reads every group; returns each group's current RSS (MB) and CPU seconds since `start()`. */
  async sample(): Promise<Record<string, { rssMb: number; cpuSeconds: number }>> {
    const out: Record<string, { rssMb: number; cpuSeconds: number }> = {};
    for (const [name, pidsOf] of Object.entries(this.groups)) {
      const pids = await pidsOf().catch(() => []);
      const first = this.firstCpu.get(name) ?? new Map<number, number>();
      const last = this.lastCpu.get(name) ?? new Map<number, number>();
      let rss = 0;
      let peak = 0;
      for (const pid of pids) {
        const reading = readProcess(pid);
        if (!reading) continue;
        if (!first.has(pid)) first.set(pid, reading.cpuMs);
        last.set(pid, reading.cpuMs);
        rss += reading.rssMb;
        peak = Math.max(peak, reading.peakRssMb);
      }
      this.firstCpu.set(name, first);
      this.lastCpu.set(name, last);
      this.maxRss.set(name, Math.max(this.maxRss.get(name) ?? 0, rss));
      this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, peak));
      out[name] = { rssMb: rss, cpuSeconds: this.cpuMsOf(name) / 1000 };
    }
    this.machineLast = readMachine();
    return out;
  }

  /** Final sample; usage per group and the machine's busy time not explained by the groups. */
  async stop(): Promise<{
    groups: Record<string, GroupUsage>;
    machine: { busyPct: number; otherCpuSeconds: number; seconds: number } | undefined;
  }> {
    await this.sample();
    const groups: Record<string, GroupUsage> = {};
    let known = 0;
    for (const name of this.names) {
      const cpuMs = this.cpuMsOf(name);
      known += cpuMs;
      groups[name] = {
        cpuSeconds: cpuMs / 1000,
        maxRssMb: this.maxRss.get(name) ?? 0,
        peakRssMb: this.peakRss.get(name) ?? 0,
      };
    }
    const start = this.machineStart;
    const end = this.machineLast;
    if (!start || !end) return { groups, machine: undefined };
    const busyMs = end.busyMs - start.busyMs;
    const totalMs = end.totalMs - start.totalMs;
    return {
      groups,
      machine: {
        busyPct: totalMs > 0 ? (100 * busyMs) / totalMs : 0,
        otherCpuSeconds: Math.max(0, busyMs - known) / 1000,
        // Wall time: the machine's total CPU time divided by its cores.
        seconds: totalMs / 1000 / os.cpus().length,
      },
    };
  }

  private cpuMsOf(name: string): number {
    const first = this.firstCpu.get(name);
    const last = this.lastCpu.get(name);
    if (!first || !last) return 0;
    let sum = 0;
    for (const [pid, end] of last) sum += end - (first.get(pid) ?? end);
    return sum;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until a one-second sample shows at most `busyPct` of all cores busy with work other than `ownPids`
 * (the idle pipeline's own polling is part of what is measured), up to `waitSeconds`. Others share this machine;
 * returns the last sample's busy %, or undefined off Linux or when not waiting.
 */
export async function waitForQuiet(
  waitSeconds: number,
  busyPct: number,
  ownPids: () => readonly number[],
  log: (line: string) => void,
): Promise<number | undefined> {
  if (waitSeconds === 0) return undefined;
  const deadline = Date.now() + waitSeconds * 1000;
  let waited = false;
  for (;;) {
    const ownCpu = (): number => ownPids().reduce((sum, pid) => sum + (readProcess(pid)?.cpuMs ?? 0), 0);
    const start = readMachine();
    const ownStart = ownCpu();
    await sleep(1000);
    const end = readMachine();
    const ownEnd = ownCpu();
    if (!start || !end) return undefined;
    const total = end.totalMs - start.totalMs;
    const busy = end.busyMs - start.busyMs - (ownEnd - ownStart);
    const pct = total > 0 ? Math.round((1000 * Math.max(0, busy)) / total) / 10 : 0;
    if (pct <= busyPct) return pct;
    if (Date.now() >= deadline) {
      log(`machine still ${pct} % busy with other work; measuring anyway (expect noise)`);
      return pct;
    }
    if (!waited)
      log(`machine ${pct} % busy with other work; waiting up to ${waitSeconds} s for it to settle…`);
    waited = true;
  }
}
