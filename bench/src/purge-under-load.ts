/**
 * Insert latency around a purge, from ONE continuous load, for both the main bench and `bench:scale`:
 * `inFlight` callers run through an idle stretch of `idleOps` calls, then the purge starts while they
 * keep going, then they stop once it is done. A call counts as "during" when it was in flight at any
 * moment of the purge, and "idle" when it ended before the purge began (after the callers' first two
 * rounds). Restarting the callers for each phase would put their start-up burst into the short purge
 * window alone.
 */
import type { ReplayEntry } from '@hyper/s2s-verifier';
import { type LatencySummary, latencySummary } from './harness.js';

export interface PurgeUnderLoad {
  readonly idle: LatencySummary;
  readonly during: LatencySummary;
  readonly purgeMs: number;
  readonly deleted: number;
  /** Insert p99 during the purge ÷ idle. */
  readonly ratio: number;
}

export interface PurgeUnderLoadOptions {
  readonly inFlight: number;
  /** Calls completed before the purge starts. */
  readonly idleOps: number;
  /** A fresh (never seen) entry per call. */
  readonly entry: () => ReplayEntry;
}

/** Polling step while the idle stretch fills up. */
const IDLE_POLL_MS = 5;

export async function purgeUnderLoad(
  store: { remember(entry: ReplayEntry): Promise<boolean> },
  purgeNow: () => Promise<{ deleted: number }>,
  options: PurgeUnderLoadOptions,
): Promise<PurgeUnderLoad> {
  const { inFlight, idleOps, entry } = options;
  const calls: { t0: number; t1: number }[] = [];
  let purgeStarted = Number.POSITIVE_INFINITY;
  let purgeEnded = Number.POSITIVE_INFINITY;
  let stop = false;
  let outcome: { deleted: number } | undefined;
  const callers = Array.from({ length: inFlight }, async () => {
    try {
      while (!stop) {
        const t0 = performance.now();
        if (!(await store.remember(entry()))) throw new Error('lost a jti');
        calls.push({ t0, t1: performance.now() });
      }
    } finally {
      // A failing caller ends the run: the purge below must not wait for calls that never come.
      stop = true;
    }
  });
  const purge = (async () => {
    while (!stop && calls.length < idleOps) await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    if (stop) return;
    purgeStarted = performance.now();
    try {
      outcome = await purgeNow();
    } finally {
      purgeEnded = performance.now();
      stop = true;
    }
  })();
  await Promise.all([purge, ...callers]);
  // The callers' own start-up burst is neither idle nor purge: idle begins after two rounds of calls.
  const warm = calls[2 * inFlight]?.t1 ?? 0;
  const idle = latencySummary(
    calls.filter((call) => call.t0 >= warm && call.t1 < purgeStarted).map((call) => call.t1 - call.t0),
  );
  const during = latencySummary(
    calls.filter((call) => call.t0 <= purgeEnded && call.t1 >= purgeStarted).map((call) => call.t1 - call.t0),
  );
  return {
    idle,
    during,
    purgeMs: purgeEnded - purgeStarted,
    deleted: outcome?.deleted ?? 0,
    ratio: during.p99 / idle.p99,
  };
}
