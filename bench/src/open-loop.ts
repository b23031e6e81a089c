/**
 * Open-loop measurement: operations start at a fixed mean arrival rate whatever the answers, as requests
 * reach a service. In a closed loop of C callers the mean latency is C / throughput (Little's law), so a
 * slower candidate reads a longer latency even where each call takes the same time; at one arrival rate
 * both candidates carry the same load and their latencies compare directly.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { latencySummary, median } from './harness.js';

export interface OpenLoopCandidate {
  name: string;
  /** Called once per round before measuring (fresh replay store, say). */
  setup?: () => Promise<void> | void;
  /** Rejects with `Unavailable` where a service would answer 503; any other rejection ends the run. */
  op: () => Promise<unknown>;
}

/**
 * A call answered as a service would answer 503 (the replay store did not answer within its bound). Under
 * fixed arrivals a stall of the disk longer than the bound is an outcome to count, not a broken run: the
 * call is measured to its answer like any other and counted apart.
 */
export class Unavailable extends Error {
  override readonly name = 'Unavailable';
}

/** More 503s than this share of a round's calls end the run (see runRound). */
const MAX_UNAVAILABLE_SHARE = 0.5;

export interface OpenLoopOptions {
  ratePerSec: number;
  opsPerRound: number;
  rounds: number;
  /**
   * Watches the machine beside every measured round (a durable commit on a connection of its own, off
   * this event loop: `startStallProbe`): `window()` opens a window, and its function closes it with the
   * slowest probe in it, ms. A round whose slowest took longer than `disturbedMs` is marked disturbed:
   * the machine stalled (a disk that stops for hundreds of ms on some hosts), whoever was measured then.
   */
  probe?: { window(): () => Promise<number>; disturbedMs: number };
}

export interface OpenLoopMeasurement {
  name: string;
  ratePerSec: number;
  /** Answers (503s included) per second over each round (first arrival to last answer), median over rounds. */
  achievedPerSec: number;
  /** Call to answer, ms, over every call of every round. */
  p50Ms: number;
  p99Ms: number;
  /** Scheduled arrival to answer, ms, over every call: the call's time plus the dispatch lag. */
  sojournP99Ms: number;
  /** Scheduled arrival to call, ms, over every call: how far the event loop fell behind the arrivals. */
  lagP99Ms: number;
  /** The most calls in flight at once, over every round. */
  maxInFlight: number;
  /** Calls answered `Unavailable` (503), over every round; their latencies are in the percentiles. */
  unavailable: number;
  /** Calls measured, over every round. */
  calls: number;
  /** With a probe: rounds it marked disturbed, and the call percentiles over the other rounds. */
  probe?: {
    disturbedRounds: number;
    rounds: number;
    slowestMs: number;
    undisturbed?: { p99Ms: number; calls: number };
  };
}

/**
 * Gaps between Poisson arrivals (ms), one per call, from a seeded generator (mulberry32): the same seed
 * gives the same arrivals, bursts included.
 */
export function poissonGaps(ratePerSec: number, seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => (-Math.log(1 - uniform()) / ratePerSec) * 1000;
}

/** Poisson arrival times (ms from the round's start), so every candidate of a round sees the same arrivals. */
export function poissonArrivals(ratePerSec: number, count: number, seed: number): Float64Array {
  const gap = poissonGaps(ratePerSec, seed);
  const arrivals = new Float64Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    at += gap();
    arrivals[i] = at;
  }
  return arrivals;
}

/**
 * Calls `start(i, scheduled)` for each arrival `arrivalAt(i)` yields (ms after `origin`, non-decreasing)
 * once it is due, until it yields undefined; resolves once the last has been started.
 */
export async function dispatchArrivals(
  origin: number,
  arrivalAt: (i: number) => number | undefined,
  start: (i: number, scheduled: number) => void,
): Promise<void> {
  let i = 0;
  let due = arrivalAt(0);
  while (due !== undefined) {
    // Every arrival already due starts now: a timer wakes at most once a millisecond, so arrivals
    // closer together than that start together, as requests read from one socket poll do.
    while (due !== undefined && due <= performance.now() - origin) {
      start(i, due);
      due = arrivalAt(++i);
    }
    if (due !== undefined) await sleep(Math.max(0, due - (performance.now() - origin)));
  }
}

async function runRound(
  candidate: OpenLoopCandidate,
  arrivals: Float64Array,
  probe?: OpenLoopOptions['probe'],
) {
  const count = arrivals.length;
  const service: number[] = new Array(count);
  const sojourn: number[] = new Array(count);
  const lag: number[] = new Array(count);
  let inFlight = 0;
  let most = 0;
  let unavailable = 0;
  let failure: { error: unknown } | undefined;
  const answers: Promise<void>[] = [];
  const closeProbe = probe?.window();
  const start = performance.now();
  let probeSlowestMs: number | undefined;
  let elapsed = 0;
  try {
    await dispatchArrivals(
      start,
      (i) => (i < count ? arrivals[i] : undefined),
      (i, scheduled) => {
        const called = performance.now();
        lag[i] = called - start - scheduled;
        inFlight++;
        most = Math.max(most, inFlight);
        const answered = () => {
          const at = performance.now();
          service[i] = at - called;
          sojourn[i] = at - start - scheduled;
          inFlight--;
        };
        answers.push(
          candidate.op().then(answered, (error: unknown) => {
            if (error instanceof Unavailable) {
              unavailable++;
              answered();
              return;
            }
            failure ??= { error };
            inFlight--;
          }),
        );
      },
    );
    await Promise.all(answers);
    elapsed = performance.now() - start;
  } finally {
    probeSlowestMs = await closeProbe?.();
  }
  if (failure !== undefined) throw failure.error;
  // A store that refuses most calls is failing (a missing table, say), not stalling: that is a broken run.
  if (unavailable > count * MAX_UNAVAILABLE_SHARE) {
    throw new Error(`${candidate.name}: ${unavailable} of ${count} calls of one round answered 503`);
  }
  return {
    achievedPerSec: (count / elapsed) * 1000,
    service,
    sojourn,
    lag,
    most,
    unavailable,
    probeSlowestMs,
  };
}

/** Every candidate at `ratePerSec`, rounds alternating in rotating order, one warm-up round each. */
export async function measureOpenLoop(
  candidates: OpenLoopCandidate[],
  options: OpenLoopOptions,
): Promise<OpenLoopMeasurement[]> {
  const acc = new Map(candidates.map((c) => [c.name, [] as Awaited<ReturnType<typeof runRound>>[]]));
  const warmup = poissonArrivals(options.ratePerSec, Math.min(options.opsPerRound, 500), 0x5eed);
  for (const c of candidates) {
    await c.setup?.();
    await runRound(c, warmup);
  }
  for (let round = 0; round < options.rounds; round++) {
    const arrivals = poissonArrivals(options.ratePerSec, options.opsPerRound, round + 1);
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[(k + round) % candidates.length]!;
      await c.setup?.();
      acc.get(c.name)!.push(await runRound(c, arrivals, options.probe));
    }
  }
  return candidates.map((c) => {
    const rounds = acc.get(c.name)!;
    // Percentiles over every call of every round, not medians of per-round ones: a round's p99 rests
    // on its few slowest commits, so short interleaved rounds pooled share the disk's slow seconds out
    // evenly and still give each percentile thousands of calls.
    const service = latencySummary(rounds.flatMap((r) => r.service));
    return {
      name: c.name,
      ratePerSec: options.ratePerSec,
      achievedPerSec: median(rounds.map((r) => r.achievedPerSec)),
      p50Ms: service.p50,
      p99Ms: service.p99,
      sojournP99Ms: latencySummary(rounds.flatMap((r) => r.sojourn)).p99,
      lagP99Ms: latencySummary(rounds.flatMap((r) => r.lag)).p99,
      maxInFlight: Math.max(...rounds.map((r) => r.most)),
      unavailable: rounds.reduce((sum, r) => sum + r.unavailable, 0),
      calls: rounds.reduce((sum, r) => sum + r.service.length, 0),
      ...(options.probe === undefined ? {} : { probe: probeSummary(rounds, options.probe.disturbedMs) }),
    };
  });
}

function probeSummary(
  rounds: readonly { service: number[]; probeSlowestMs: number | undefined }[],
  disturbedMs: number,
): NonNullable<OpenLoopMeasurement['probe']> {
  const calm = rounds.filter((r) => (r.probeSlowestMs ?? 0) <= disturbedMs);
  const summary = {
    disturbedRounds: rounds.length - calm.length,
    rounds: rounds.length,
    slowestMs: Math.max(...rounds.map((r) => r.probeSlowestMs ?? 0)),
  };
  if (calm.length === 0) return summary;
  const service = latencySummary(calm.flatMap((r) => r.service));
  return { ...summary, undisturbed: { p99Ms: service.p99, calls: service.ops } };
}
