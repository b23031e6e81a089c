/**
 * Insert latency around a purge, from ONE continuous load, for both the main bench and `bench:scale`:
 * the load runs through an idle stretch of `idleOps` calls, then the purge starts while it keeps going,
 * then it stops once the purge is done. A call counts as "during" when it was in flight at any moment of
 * the purge, and "idle" when it ended before the purge began (after the load's start-up). Restarting
 * the load for each phase would put its start-up burst into the short purge window alone.
 *
 * Two shapes of load. `inFlight` callers (a closed loop) each wait for their answer before the next
 * call: a stall holds every caller, but only those `inFlight` calls see it, so a stall shorter than the
 * window moves its p99 little. `ratePerSec` (an open loop: seeded Poisson arrivals, as requests reach a
 * service) keeps arriving through a stall, so every call that arrives during it waits: what a service
 * at that rate would see.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplayEntry } from '@hyper/s2s-verifier';
import { type LatencySummary, latencySummary } from './harness.js';
import { dispatchArrivals, poissonGaps } from './open-loop.js';

export interface PurgeUnderLoad {
  readonly idle: LatencySummary;
  readonly during: LatencySummary;
  readonly purgeMs: number;
  readonly deleted: number;
  /** Insert p99 during the purge ÷ idle. */
  readonly ratio: number;
  /**
   * Calls during the purge slower than 1.5 × the idle p99 (the goal's line), and the slowest call: unlike a
   * p99, neither shrinks when the purge (the window) lasts longer (the count can only grow with it).
   */
  readonly slow: number;
  readonly slowestMs: number;
}

/** The goal: insert p99 during a purge at most this × idle. */
const GOAL_RATIO = 1.5;

export type PurgeLoad =
  /** Closed loop: this many callers, each calling again as soon as it has its answer. */
  | { readonly inFlight: number }
  /** Open loop: Poisson arrivals at this mean rate, whatever the answers. */
  | { readonly ratePerSec: number };

export type PurgeUnderLoadOptions = PurgeLoad & {
  /** Calls completed before the purge starts. */
  readonly idleOps: number;
  /** A fresh (never seen) entry per call. */
  readonly entry: () => ReplayEntry;
};

interface Call {
  readonly t0: number;
  readonly t1: number;
}

/** The load as it ran: every answered call, and a function that ends it (resolves once all are answered). */
interface RunningLoad {
  readonly calls: Call[];
  /** Set once a call failed: the load has stopped by itself. */
  readonly failed: () => boolean;
  readonly stop: () => Promise<void>;
  /** When the load's start-up is over (idle calls are counted from here). */
  readonly warm: () => number;
}

/** One remember() of a fresh entry, recorded in `calls`; a jti not taken as new fails the run. */
async function rememberFresh(
  store: { remember(entry: ReplayEntry): Promise<boolean> },
  entry: () => ReplayEntry,
  calls: Call[],
): Promise<void> {
  const t0 = performance.now();
  if (!(await store.remember(entry()))) throw new Error('lost a jti');
  calls.push({ t0, t1: performance.now() });
}

function closedLoop(
  store: { remember(entry: ReplayEntry): Promise<boolean> },
  entry: () => ReplayEntry,
  inFlight: number,
): RunningLoad {
  const calls: Call[] = [];
  let stop = false;
  let failed = false;
  const callers = Array.from({ length: inFlight }, async () => {
    try {
      while (!stop) await rememberFresh(store, entry, calls);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A failing caller ends the run: the purge must not wait for calls that never come.
      stop = true;
    }
  });
  const all = Promise.all(callers);
  all.catch(() => {});
  return {
    calls,
    failed: () => failed,
    stop: async () => {
      stop = true;
      await all;
    },
    // The callers' own start-up burst is neither idle nor purge: idle begins after two rounds of calls.
    warm: () => calls[2 * inFlight]?.t1 ?? 0,
  };
}

/** Calls of the open loop's first this many ms are its start-up (connections opening, code warming). */
const OPEN_LOOP_WARM_MS = 500;

function openLoop(
  store: { remember(entry: ReplayEntry): Promise<boolean> },
  entry: () => ReplayEntry,
  ratePerSec: number,
): RunningLoad {
  const calls: Call[] = [];
  let stop = false;
  let failed = false;
  const answers: Promise<void>[] = [];
  const gap = poissonGaps(ratePerSec, 0x9e37);
  let due = 0;
  const start = performance.now();
  const dispatcher = dispatchArrivals(
    start,
    () => {
      if (stop) return undefined;
      due += gap();
      return due;
    },
    () => {
      // An arrival already due when the load stopped is not started.
      if (stop) return;
      const answer = rememberFresh(store, entry, calls);
      answer.catch(() => {
        failed = true;
        stop = true;
      });
      answers.push(answer);
    },
  );
  return {
    calls,
    failed: () => failed,
    stop: async () => {
      stop = true;
      await dispatcher;
      await Promise.all(answers);
    },
    warm: () => start + OPEN_LOOP_WARM_MS,
  };
}

/** Polling step while the idle stretch fills up. */
const IDLE_POLL_MS = 5;

export async function purgeUnderLoad(
  store: { remember(entry: ReplayEntry): Promise<boolean> },
  purgeNow: () => Promise<{ deleted: number }>,
  options: PurgeUnderLoadOptions,
): Promise<PurgeUnderLoad> {
  const { idleOps, entry } = options;
  const load =
    'ratePerSec' in options
      ? openLoop(store, entry, options.ratePerSec)
      : closedLoop(store, entry, options.inFlight);
  let purgeStarted = Number.POSITIVE_INFINITY;
  let purgeEnded = Number.POSITIVE_INFINITY;
  let outcome: { deleted: number } | undefined;
  try {
    while (!load.failed() && load.calls.length < idleOps) await sleep(IDLE_POLL_MS);
    if (!load.failed()) {
      purgeStarted = performance.now();
      try {
        outcome = await purgeNow();
      } finally {
        purgeEnded = performance.now();
      }
    }
  } finally {
    await load.stop();
  }
  const { calls } = load;
  const warm = load.warm();
  const idle = latencySummary(
    calls.filter((call) => call.t0 >= warm && call.t1 < purgeStarted).map((call) => call.t1 - call.t0),
  );
  const duringMs = calls
    .filter((call) => call.t0 <= purgeEnded && call.t1 >= purgeStarted)
    .map((call) => call.t1 - call.t0);
  const slowestMs = duringMs.reduce((most, ms) => Math.max(most, ms), 0);
  const slow = duringMs.filter((ms) => ms > GOAL_RATIO * idle.p99).length;
  const during = latencySummary(duringMs);
  return {
    slow,
    slowestMs,
    idle,
    during,
    purgeMs: purgeEnded - purgeStarted,
    deleted: outcome?.deleted ?? 0,
    ratio: during.p99 / idle.p99,
  };
}
