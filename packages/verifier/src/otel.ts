import { createMetricInstruments, VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import { type Meter, metrics } from '@opentelemetry/api';
import { FETCH_FAILURE_OUTCOMES, routeBaseline } from './metric-baseline.js';
import { PURGE_RESULTS, type PurgeResult, type VerifierHistogramName } from './metrics.js';
import type { AuthMetricLabels, AuthMetricName, JwksFetchOutcome, MetricsSink } from './observe.js';

export interface OtelMetricsOptions {
  /** Default: `metrics.getMeter('@hyper/s2s-verifier')` from the global MeterProvider. */
  meter?: Meter;
}

/**
 * A MetricsSink on @opentelemetry/api with the same instruments, names and attributes as the
 * prometheus sink (METRICS in @hyper/s2s-contracts): counters for s2s_auth_*, JWKS fetches and purges,
 * histograms in seconds with the contract's buckets as advice. OTel's Prometheus exporter appends
 * `_total` to counter names.
 */
export function otelMetrics(options: OtelMetricsOptions = {}): MetricsSink {
  const meter = options.meter ?? metrics.getMeter('@hyper/s2s-verifier');
  const { counters, histograms } = createMetricInstruments(meter, 'verifier');
  const fetches = counters.get(VERIFIER_METRIC_NAMES.jwksFetches)!;
  const failures = counters.get(VERIFIER_METRIC_NAMES.jwksFetchFailures)!;
  const purgeRuns = counters.get(VERIFIER_METRIC_NAMES.purgeRuns)!;
  const purgedRows = counters.get(VERIFIER_METRIC_NAMES.purgedRows)!;
  const purgeDuration = histograms.get(VERIFIER_METRIC_NAMES.purgeDuration)!;
  // Zero baselines (metric-baseline.ts), as the prometheus sink: the closed label sets now, a route's
  // alerted series on first use.
  for (const reason of FETCH_FAILURE_OUTCOMES) failures.add(0, { reason });
  for (const result of PURGE_RESULTS) purgeRuns.add(0, { result });
  purgedRows.add(0);
  const baseline = routeBaseline((name, labels) => counters.get(name)?.add(0, labels));
  return {
    increment(name: AuthMetricName, labels: AuthMetricLabels) {
      baseline(labels.path, labels.scope);
      counters.get(name)?.add(1, { reason: labels.reason, path: labels.path, scope: labels.scope });
    },
    jwksFetch(outcome: JwksFetchOutcome) {
      fetches.add(1);
      if (outcome !== 'ok') failures.add(1, { reason: outcome });
    },
    observe(name: VerifierHistogramName, seconds: number, labels: Readonly<Record<string, string>>) {
      histograms.get(name)?.record(seconds, labels);
    },
    purge(result: PurgeResult, deleted: number, seconds?: number) {
      purgeRuns.add(1, { result });
      if (deleted > 0) purgedRows.add(deleted);
      if (seconds !== undefined) purgeDuration.record(seconds, { result });
    },
  };
}
