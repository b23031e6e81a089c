/**
 * Interleaved, median-of-rounds throughput and latency measurement. Candidates run in rotating order
 * within every round, so drift on a shared 2-core machine hits all of them alike.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second of /proc CPU times (getconf CLK_TCK); undefined off Linux. */
const ticksPerSecond = (() => {
  if (process.platform !== 'linux') return undefined;
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
})();

/**
 * CPU time of the main (event-loop) thread alone, µs, from /proc/self/task/<pid>/stat: process CPU
 * would also count libuv's pool, where WebCrypto runs the RSA work. Undefined off Linux.
 */
export function mainThreadCpuUs(): number | undefined {
  if (ticksPerSecond === undefined) return undefined;
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
}

export interface Candidate {
  name: string;
  /** Called once per round before measuring (fresh replay store, fresh token cursor, ...). */
  setup?: () => Promise<void> | void;
  op: () => Promise<unknown> | unknown;
}

export interface Measurement {
  name: string;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rounds: number[];
  /** Main-thread CPU per op over all measured rounds, µs (Linux only). */
  mainCpuUsPerOp?: number;
}

export interface RunOptions {
  concurrency: number;
  opsPerRound: number;
  rounds: number;
  warmupOps?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const percentile = (sorted: Float64Array | number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function runRound(op: Candidate['op'], ops: number, concurrency: number) {
  const latencies = new Float64Array(ops);
  let next = 0;
  const worker = async () => {
    while (true) {
      const i = next++;
      if (i >= ops) return;
      const t0 = performance.now();
      await op();
      latencies[i] = performance.now() - t0;
    }
  };
  const cpuBefore = mainThreadCpuUs();
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, worker));
  const elapsed = performance.now() - start;
  const cpuAfter = mainThreadCpuUs();
  latencies.sort();
  return {
    opsPerSec: (ops / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mainCpuUs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
  };
}

export async function measure(candidates: Candidate[], options: RunOptions): Promise<Measurement[]> {
  const acc = new Map(
    candidates.map((c) => [
      c.name,
      { rounds: [] as number[], p50: [] as number[], p99: [] as number[], cpuUs: 0 as number | undefined },
    ]),
  );
  for (const c of candidates) {
    await c.setup?.();
    await runRound(c.op, options.warmupOps ?? Math.min(500, options.opsPerRound), options.concurrency);
  }
  for (let round = 0; round < options.rounds; round++) {
    const order = candidates.map((_, i) => candidates[(i + round) % candidates.length]!);
    for (const c of order) {
      await c.setup?.();
      const r = await runRound(c.op, options.opsPerRound, options.concurrency);
      const a = acc.get(c.name)!;
      a.rounds.push(r.opsPerSec);
      a.p50.push(r.p50);
      a.p99.push(r.p99);
      a.cpuUs = a.cpuUs === undefined || r.mainCpuUs === undefined ? undefined : a.cpuUs + r.mainCpuUs;
    }
  }
  return candidates.map((c) => {
    const a = acc.get(c.name)!;
    return {
      name: c.name,
      opsPerSec: median(a.rounds),
      p50Ms: median(a.p50),
      p99Ms: median(a.p99),
      rounds: a.rounds,
      ...(a.cpuUs === undefined ? {} : { mainCpuUsPerOp: a.cpuUs / (options.rounds * options.opsPerRound) }),
    };
  });
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
