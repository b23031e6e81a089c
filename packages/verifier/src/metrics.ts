import type { VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';

/** The verifier's latency histograms (METRICS in @hyper/s2s-contracts has their labels and help). */
export type VerifierHistogramName =
  | typeof VERIFIER_METRIC_NAMES.authDuration
  | typeof VERIFIER_METRIC_NAMES.replayRememberDuration
  | typeof VERIFIER_METRIC_NAMES.jwksFetchDuration;

/** How a replay store remember() ended: the `outcome` label of s2s_replay_remember_duration_seconds. */
export type RememberOutcome = 'fresh' | 'replayed' | 'unavailable';

/** Closed set of purge results: the `result` label of s2s_replay_purge_runs_total. */
export const PURGE_RESULTS = ['deleted', 'idle', 'lock_busy', 'error'] as const;
/**
 * One purge run as a metric label value. Not what `runPurge()` answers: that is a `PurgeOutcome`
 * (`{ deleted, batches, lockBusy }`).
 */
export type PurgeResult = (typeof PURGE_RESULTS)[number];

/** Frozen label objects for the fixed label sets: recording a sample allocates nothing. */
export const REMEMBER_LABELS: Readonly<Record<RememberOutcome, Readonly<Record<'outcome', string>>>> = {
  fresh: Object.freeze({ outcome: 'fresh' }),
  replayed: Object.freeze({ outcome: 'replayed' }),
  unavailable: Object.freeze({ outcome: 'unavailable' }),
};

export const STATUS_LABEL: Readonly<Record<200 | 401 | 403 | 503, string>> = {
  200: '200',
  401: '401',
  403: '403',
  503: '503',
};

/** Seconds since `start`, a performance.now() reading (monotonic clock). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
