import { histogramBuckets, type MetricSpec, metricsOf, VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import { Counter, Histogram, type Registry, register } from 'prom-client';
import { FETCH_FAILURE_OUTCOMES, routeBaseline } from './metric-baseline.js';
import { PURGE_RESULTS, type PurgeResult, type VerifierHistogramName } from './metrics.js';
import type { AuthMetricLabels, AuthMetricName, JwksFetchOutcome, MetricsSink } from './observe.js';

export const JWKS_FETCHES_METRIC = VERIFIER_METRIC_NAMES.jwksFetches;
export const JWKS_FETCH_FAILURES_METRIC = VERIFIER_METRIC_NAMES.jwksFetchFailures;

export interface PrometheusMetricsOptions {
  /** Default: prom-client's global registry. */
  registry?: Registry;
}

/** The registry's metric of that name if one exists (a second adapter on one registry reuses it). */
function counter(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<string>;
  return new Counter<string>({ name, help, labelNames, registers: [registry] });
}

function histogram(registry: Registry, name: string, spec: MetricSpec) {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<string>;
  return new Histogram<string>({
    name,
    help: spec.help,
    labelNames: spec.labels,
    buckets: histogramBuckets(spec),
    registers: [registry],
  });
}

/**
 * A MetricsSink on prom-client registering every verifier metric of METRICS (@hyper/s2s-contracts):
 * the contract's s2s_auth_success / s2s_auth_401 / s2s_auth_403 plus s2s_auth_503 {reason, path,
 * scope}; s2s_jwks_fetches_total, s2s_jwks_fetch_failures_total {reason}; the latency histograms
 * s2s_auth_duration_seconds {status, path, scope}, s2s_replay_remember_duration_seconds {outcome},
 * s2s_jwks_fetch_duration_seconds {outcome}; and the purger's s2s_replay_purge_runs_total {result},
 * s2s_replay_purged_rows_total, s2s_replay_purge_duration_seconds {result} (pass the sink to startPurger
 * as `metrics`).
 *
 * @example
 * ```ts
 * import { memoryReplayStore, verifierFromEnv } from '@hyper/s2s-verifier';
 * import { prometheusMetrics } from '@hyper/s2s-verifier/prometheus';
 * import { Registry } from 'prom-client';
 *
 * const registry = new Registry();
 * const verifier = verifierFromEnv({
 *   replayStore: memoryReplayStore(),
 *   metrics: prometheusMetrics({ registry }),
 * });
 * // GET /metrics answers with: await registry.metrics()
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): MetricsSink {
  const registry = options.registry ?? register;
  const counters = new Map<string, Counter<string>>();
  const histograms = new Map<string, Histogram<string>>();
  for (const [name, spec] of metricsOf('verifier')) {
    if (spec.kind === 'counter') counters.set(name, counter(registry, name, spec.help, spec.labels));
    else histograms.set(name, histogram(registry, name, spec));
  }
  const fetches = counters.get(JWKS_FETCHES_METRIC)!;
  const failures = counters.get(JWKS_FETCH_FAILURES_METRIC)!;
  const purgeRuns = counters.get(VERIFIER_METRIC_NAMES.purgeRuns)!;
  const purgedRows = counters.get(VERIFIER_METRIC_NAMES.purgedRows)!;
  const purgeDuration = histograms.get(VERIFIER_METRIC_NAMES.purgeDuration)!;
  // Zero baselines (metric-baseline.ts): the closed label sets now, a route's alerted series on first use.
  for (const reason of FETCH_FAILURE_OUTCOMES) failures.inc({ reason }, 0);
  for (const result of PURGE_RESULTS) purgeRuns.inc({ result }, 0);
  // From 0, so increase() sees a replica's first timed run (S2sReplayPurgeSlow reads its buckets).
  for (const result of PURGE_RESULTS) purgeDuration.zero({ result });
  const baseline = routeBaseline((name, labels) => counters.get(name)?.inc(labels, 0));
  return {
    increment(name: AuthMetricName, labels: AuthMetricLabels) {
      baseline(labels.path, labels.scope);
      counters.get(name)?.inc({ reason: labels.reason, path: labels.path, scope: labels.scope });
    },
    jwksFetch(outcome: JwksFetchOutcome) {
      fetches.inc();
      if (outcome !== 'ok') failures.inc({ reason: outcome });
    },
    observe(name: VerifierHistogramName, seconds: number, labels: Readonly<Record<string, string>>) {
      histograms.get(name)?.observe(labels, seconds);
    },
    purge(result: PurgeResult, deleted: number, seconds?: number) {
      purgeRuns.inc({ result });
      if (deleted > 0) purgedRows.inc(deleted);
      if (seconds !== undefined) purgeDuration.observe({ result }, seconds);
    },
  };
}
