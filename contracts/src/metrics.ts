import { METRIC_NAMES } from './constants.js';

/**
 * Every metric the SDKs export, as data: the prometheus and otel sinks of both packages register
 * exactly these (name, kind, labels, help), and ops/ (alert rules, Grafana dashboard) is tested against
 * them. Label values are closed sets chosen by the SDKs; never text from a token.
 */
export type MetricKind = 'counter' | 'histogram';
export type MetricSide = 'verifier' | 'signer';

export interface MetricSpec {
  readonly kind: MetricKind;
  readonly side: MetricSide;
  readonly help: string;
  readonly labels: readonly string[];
  /** A histogram's bucket bounds in seconds: LATENCY_BUCKETS_SECONDS unless the metric needs others. */
  readonly buckets?: readonly number[];
}

/**
 * Histogram bucket bounds in seconds: a static-key verify is ~0.1-0.2 ms, a Postgres remember a few
 * ms, a KMS call tens of ms, a JWKS fetch up to its timeout (default 2 s; bounded at 60 s).
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * Bucket bounds in seconds for a replay purge run: an idle run takes milliseconds, a DELETE of a backlog
 * seconds; 30 s is where REPLAY.md says to switch to the partitioned layout (alert S2sReplayPurgeSlow).
 */
export const PURGE_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300,
]);

/** A histogram's bucket bounds (a fresh array, as the metric libraries take one). */
export function histogramBuckets(spec: MetricSpec): number[] {
  return [...(spec.buckets ?? LATENCY_BUCKETS_SECONDS)];
}

/** Names of the verifier's metrics (Hyper Core); the four auth counters are the contract's. */
export const VERIFIER_METRIC_NAMES = {
  ...METRIC_NAMES,
  jwksFetches: 's2s_jwks_fetches_total',
  jwksFetchFailures: 's2s_jwks_fetch_failures_total',
  authDuration: 's2s_auth_duration_seconds',
  replayRememberDuration: 's2s_replay_remember_duration_seconds',
  jwksFetchDuration: 's2s_jwks_fetch_duration_seconds',
  purgeRuns: 's2s_replay_purge_runs_total',
  purgedRows: 's2s_replay_purged_rows_total',
  purgeDuration: 's2s_replay_purge_duration_seconds',
} as const;

/** Names of the signer's metrics (Hyper Lite). */
export const SIGNER_METRIC_NAMES = {
  signDuration: 's2s_signer_sign_duration_seconds',
  kmsCallDuration: 's2s_kms_call_duration_seconds',
  poolHits: 's2s_signer_pool_hits_total',
  poolMisses: 's2s_signer_pool_misses_total',
} as const;

export type VerifierMetricName = (typeof VERIFIER_METRIC_NAMES)[keyof typeof VERIFIER_METRIC_NAMES];
export type SignerMetricName = (typeof SIGNER_METRIC_NAMES)[keyof typeof SIGNER_METRIC_NAMES];

const V = VERIFIER_METRIC_NAMES;
const S = SIGNER_METRIC_NAMES;
const AUTH_LABELS = ['reason', 'path', 'scope'] as const;
const verifier = (kind: MetricKind, help: string, labels: readonly string[] = []): MetricSpec =>
  Object.freeze({ kind, side: 'verifier', help, labels });
const signer = (kind: MetricKind, help: string, labels: readonly string[] = []): MetricSpec =>
  Object.freeze({ kind, side: 'signer', help, labels });

export const METRICS: Readonly<Record<VerifierMetricName | SignerMetricName, MetricSpec>> = Object.freeze({
  [V.success]: verifier('counter', 'Successful S2S JWT authorizations', AUTH_LABELS),
  [V.unauthorized]: verifier(
    'counter',
    'S2S requests rejected 401: missing, invalid, expired, replayed or unknown-kid token',
    AUTH_LABELS,
  ),
  [V.forbidden]: verifier(
    'counter',
    'S2S requests rejected 403: valid token without the required scope',
    AUTH_LABELS,
  ),
  [V.unavailable]: verifier(
    'counter',
    'S2S requests refused 503: JWKS or replay store unavailable (fail closed)',
    AUTH_LABELS,
  ),
  [V.jwksFetches]: verifier('counter', 'JWKS requests sent to the network'),
  [V.jwksFetchFailures]: verifier('counter', 'JWKS requests that failed, by reason', ['reason']),
  [V.authDuration]: verifier('histogram', 'Time from verify() called to its result, seconds', [
    'status',
    'path',
    'scope',
  ]),
  [V.replayRememberDuration]: verifier(
    'histogram',
    'Replay store remember() time by outcome (fresh, replayed, unavailable), seconds',
    ['outcome'],
  ),
  [V.jwksFetchDuration]: verifier('histogram', 'JWKS network request time by outcome, seconds', ['outcome']),
  [V.purgeRuns]: verifier('counter', 'Replay store purge runs by result (deleted, idle, lock_busy, error)', [
    'result',
  ]),
  [V.purgedRows]: verifier('counter', 'Replay records deleted by the purger'),
  [V.purgeDuration]: Object.freeze({
    ...verifier(
      'histogram',
      'Replay store purge run time by result (deleted, idle, lock_busy, error), seconds',
      ['result'],
    ),
    buckets: PURGE_BUCKETS_SECONDS,
  }),
  [S.signDuration]: signer('histogram', 'Time to produce one token (pool, PEM or KMS), seconds', ['outcome']),
  [S.kmsCallDuration]: signer('histogram', 'One Cloud KMS RPC attempt by method and outcome, seconds', [
    'method',
    'outcome',
  ]),
  [S.poolHits]: signer('counter', 'sign() calls served from the pre-signed pool'),
  [S.poolMisses]: signer('counter', 'sign() calls the pre-signed pool could not serve at once'),
});

/** The metrics one side exports, by name. */
export function metricsOf(side: MetricSide): ReadonlyArray<readonly [string, MetricSpec]> {
  return Object.entries(METRICS).filter(([, spec]) => spec.side === side);
}
