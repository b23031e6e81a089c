/**
 * Interleaved, median-of-rounds throughput and latency measurement. Candidates run in rotating order
 * within every round, so drift on a shared 2-core machine hits all of them alike.
 */
import { performance } from 'node:perf_hooks';

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
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, worker));
  const elapsed = performance.now() - start;
  latencies.sort();
  return {
    opsPerSec: (ops / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

export async function measure(candidates: Candidate[], options: RunOptions): Promise<Measurement[]> {
  const acc = new Map(
    candidates.map((c) => [c.name, { rounds: [] as number[], p50: [] as number[], p99: [] as number[] }]),
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
    };
  });
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
