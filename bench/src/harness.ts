/**
 * Interleaved, median-of-rounds throughput and latency measurement. Candidates run in rotating order
 * within every round, so drift on a shared 2-core machine hits all of them alike.
 */
import { performance } from 'node:perf_hooks';
import { machineCpuUs, mainThreadCpuUs, processCpuUs } from './cpu.js';

export interface Candidate {
  name: string;
  /** Called once per round before measuring (fresh replay store, fresh token cursor, ...). */
  setup?: () => Promise<void> | void;
  op: () => Promise<unknown> | unknown;
  /** A running count read around every round (statements sent, say); reported per op. */
  count?: () => number;
}

export interface Measurement {
  name: string;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rounds: number[];
  /** Main-thread CPU per op over all measured rounds, µs (Linux only). */
  mainCpuUsPerOp?: number;
  /** With `RunOptions.cpuBreakdown` (Linux only): where the CPU went, per op over all measured rounds. */
  cpu?: CpuPerOp;
  /** The candidate's `count` increase per op over all measured rounds. */
  countPerOp?: number;
}

export interface CpuPerOp {
  /** This process, every thread (the event loop and libuv's pool), µs. */
  processUs: number;
  /** The Postgres server's processes, µs; undefined when it is not on this machine. */
  postgresUs: number | undefined;
  /** The whole machine, every core, µs. */
  machineUs: number;
  /** Share of the machine's CPU time that was busy while the candidate ran (0–1). */
  machineBusy: number;
  /**
   * Context switches of this process's threads (voluntary and involuntary), per op: a thread of
   * libuv's pool put to sleep and woken per RSA job, or the event loop preempted by one, shows here.
   */
  contextSwitches: number;
}

export interface RunOptions {
  concurrency: number;
  opsPerRound: number;
  rounds: number;
  warmupOps?: number;
  /** Also account process, Postgres (`postgresUs`, when local) and machine CPU per op. */
  cpuBreakdown?: { postgresUs?: () => number };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const percentile = (sorted: Float64Array | number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export interface LatencySummary {
  readonly ops: number;
  readonly p50: number;
  readonly p99: number;
}

/** Count, p50 and p99 of latency samples (ms); sorts them in place. */
export function latencySummary(samples: number[]): LatencySummary {
  samples.sort((a, b) => a - b);
  return { ops: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Running totals read around a round; each field undefined where it cannot be read. */
interface Snapshot {
  main: number | undefined;
  process?: number | undefined;
  postgres?: number | undefined;
  machine?: { busy: number; total: number } | undefined;
  switches?: number | undefined;
  count?: number | undefined;
}

/** Context switches of every thread of this process so far. */
const contextSwitches = () => {
  const usage = process.resourceUsage();
  return usage.voluntaryContextSwitches + usage.involuntaryContextSwitches;
};

function snapshot(candidate: Candidate, options: RunOptions): Snapshot {
  const breakdown = options.cpuBreakdown;
  return {
    main: mainThreadCpuUs(),
    ...(breakdown === undefined
      ? {}
      : {
          process: processCpuUs(),
          postgres: breakdown.postgresUs?.(),
          machine: machineCpuUs(),
          switches: contextSwitches(),
        }),
    count: candidate.count?.(),
  };
}

const delta = (after: number | undefined, before: number | undefined) =>
  after === undefined || before === undefined ? undefined : after - before;

async function runRound(candidate: Candidate, ops: number, options: RunOptions) {
  const latencies = new Float64Array(ops);
  let next = 0;
  const worker = async () => {
    while (true) {
      const i = next++;
      if (i >= ops) return;
      const t0 = performance.now();
      await candidate.op();
      latencies[i] = performance.now() - t0;
    }
  };
  const before = snapshot(candidate, options);
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, ops) }, worker));
  const elapsed = performance.now() - start;
  const after = snapshot(candidate, options);
  latencies.sort();
  return {
    opsPerSec: (ops / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mainCpuUs: delta(after.main, before.main),
    processUs: delta(after.process, before.process),
    postgresUs: delta(after.postgres, before.postgres),
    machineBusyUs: delta(after.machine?.busy, before.machine?.busy),
    machineTotalUs: delta(after.machine?.total, before.machine?.total),
    switches: delta(after.switches, before.switches),
    count: delta(after.count, before.count),
  };
}

/** Sums a field over rounds; undefined as soon as one round could not read it. */
const sum = (values: (number | undefined)[]) =>
  values.reduce<number | undefined>((a, v) => (a === undefined || v === undefined ? undefined : a + v), 0);

export async function measure(candidates: Candidate[], options: RunOptions): Promise<Measurement[]> {
  const acc = new Map(candidates.map((c) => [c.name, [] as Awaited<ReturnType<typeof runRound>>[]]));
  for (const c of candidates) {
    await c.setup?.();
    await runRound(c, options.warmupOps ?? Math.min(500, options.opsPerRound), options);
  }
  for (let round = 0; round < options.rounds; round++) {
    const order = candidates.map((_, i) => candidates[(i + round) % candidates.length]!);
    for (const c of order) {
      await c.setup?.();
      acc.get(c.name)!.push(await runRound(c, options.opsPerRound, options));
    }
  }
  const ops = options.rounds * options.opsPerRound;
  return candidates.map((c) => {
    const rounds = acc.get(c.name)!;
    const total = (
      field:
        | 'mainCpuUs'
        | 'processUs'
        | 'postgresUs'
        | 'machineBusyUs'
        | 'machineTotalUs'
        | 'switches'
        | 'count',
    ) => sum(rounds.map((r) => r[field]));
    const mainCpuUs = total('mainCpuUs');
    const processUs = total('processUs');
    const busyUs = total('machineBusyUs');
    const machineUs = total('machineTotalUs');
    const count = total('count');
    const postgresUs = total('postgresUs');
    const switches = total('switches');
    return {
      name: c.name,
      opsPerSec: median(rounds.map((r) => r.opsPerSec)),
      p50Ms: median(rounds.map((r) => r.p50)),
      p99Ms: median(rounds.map((r) => r.p99)),
      rounds: rounds.map((r) => r.opsPerSec),
      ...(mainCpuUs === undefined ? {} : { mainCpuUsPerOp: mainCpuUs / ops }),
      ...(processUs === undefined || busyUs === undefined || machineUs === undefined || switches === undefined
        ? {}
        : {
            cpu: {
              processUs: processUs / ops,
              postgresUs: postgresUs === undefined ? undefined : postgresUs / ops,
              machineUs: busyUs / ops,
              machineBusy: busyUs / machineUs,
              contextSwitches: switches / ops,
            },
          }),
      ...(count === undefined ? {} : { countPerOp: count / ops }),
    };
  });
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
