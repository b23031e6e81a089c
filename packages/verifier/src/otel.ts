import { createMetricInstruments, VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import { type Meter, metrics } from '@opentelemetry/api';
import type { PurgeResult, VerifierHistogramName } from './metrics.js';
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
  return {
    increment(name: AuthMetricName, labels: AuthMetricLabels) {
      counters.get(name)?.add(1, { reason: labels.reason, path: labels.path, scope: labels.scope });
    },
    jwksFetch(outcome: JwksFetchOutcome) {
      fetches.add(1);
      if (outcome !== 'ok') failures.add(1, { reason: outcome });
    },
    observe(name: VerifierHistogramName, seconds: number, labels: Readonly<Record<string, string>>) {
      histograms.get(name)?.record(seconds, labels);
    },
    purge(result: PurgeResult, deleted: number) {
      purgeRuns.add(1, { result });
      if (deleted > 0) purgedRows.add(deleted);
    },
  };
}
