/**
 * CPU accounting from /proc (Linux only; every reader answers undefined elsewhere): the event-loop
 * thread, this whole process (libuv's pool included, where WebCrypto runs the RSA work), the
 * Postgres server's processes when it runs on this machine, and the machine's busy share.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';

/** Clock ticks per second of /proc CPU times (getconf CLK_TCK); undefined off Linux. */
const ticksPerSecond = (() => {
  if (process.platform !== 'linux') return undefined;
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
})();

interface Stat {
  readonly ppid: number;
  /** utime + stime, µs. */
  readonly cpuUs: number;
  /** cutime + cstime: children already exited and reaped, µs. */
  readonly reapedUs: number;
}

/** A /proc/<path>/stat line's parent and CPU time; undefined when the process is gone. */
function readStat(path: string): Stat | undefined {
  if (ticksPerSecond === undefined) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${path}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name: state is field 3, ppid 4, utime 14, stime 15,
  // cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    cpuUs: ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond,
    reapedUs: ((Number(fields[13]) + Number(fields[14])) * 1e6) / ticksPerSecond,
  };
}

/** A process's command name; undefined when it is gone or not readable. */
export function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A process's parent pid; undefined when it is gone or not readable. */
export function parentPid(pid: number): number | undefined {
  return readStat(String(pid))?.ppid;
}

/**
 * The real path of a process's working directory (a pid) or of a path (a string); undefined when it
 * cannot be read.
 */
export function workingDirectory(of: number | string): string | undefined {
  try {
    return realpathSync(typeof of === 'number' ? readlinkSync(`/proc/${of}/cwd`) : of);
  } catch {
    return undefined;
  }
}

/** CPU time of the main (event-loop) thread alone, µs. */
export function mainThreadCpuUs(): number | undefined {
  return readStat(`self/task/${process.pid}`)?.cpuUs;
}

/** CPU time of this process, every thread, µs. */
export function processCpuUs(): number | undefined {
  return readStat('self')?.cpuUs;
}

/**
 * The machine's busy and available CPU time since boot, µs over all cores. Idle and iowait are not
 * busy; steal (the hypervisor running someone else on our vCPU) is neither ours nor available.
 */
export function machineCpuUs(): { busy: number; total: number } | undefined {
  if (ticksPerSecond === undefined) return undefined;
  // user nice system idle iowait irq softirq (guest time is already inside user; steal is left out).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0] = readFileSync(
    '/proc/stat',
    'utf8',
  )
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy: (busy * 1e6) / ticksPerSecond, total: ((busy + idle + iowait) * 1e6) / ticksPerSecond };
}

/**
 * Reads the CPU time of one Postgres server's processes: the postmaster and its children (backends,
 * WAL writer, checkpointer, autovacuum workers…). Children that exit mid-round still count: the
 * postmaster's cutime/cstime holds them once reaped. Find the postmaster with `localPostgres`.
 */
export function postgresCpuReader(postmasterPid: number): () => number {
  return () => {
    const own = readStat(String(postmasterPid));
    let us = own === undefined ? 0 : own.cpuUs + own.reapedUs;
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      const stat = readStat(entry);
      if (stat?.ppid === postmasterPid) us += stat.cpuUs;
    }
    return us;
  };
}
