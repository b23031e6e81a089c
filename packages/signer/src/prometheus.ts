import { histogramBuckets, metricsOf } from '@hyper/s2s-contracts';
import { Counter, Histogram, type Registry, register } from 'prom-client';
import type { SignerCounterName, SignerHistogramName, SignerMetricsSink } from './metrics.js';

export interface PrometheusMetricsOptions {
  /** Default: prom-client's global registry. */
  registry?: Registry;
}

/**
 * A SignerMetricsSink on prom-client registering every signer metric of METRICS (@hyper/s2s-contracts):
 * s2s_signer_sign_duration_seconds {outcome}, s2s_kms_call_duration_seconds {method, outcome},
 * s2s_signer_pool_hits_total, s2s_signer_pool_misses_total. A second call on one registry reuses them.
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): SignerMetricsSink {
  const registry = options.registry ?? register;
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram<string>>();
  for (const [name, spec] of metricsOf('signer')) {
    const existing = registry.getSingleMetric(name);
    const labelNames = [...spec.labels];
    if (spec.kind === 'counter') {
      counters.set(
        name,
        existing instanceof Counter
          ? existing
          : new Counter({ name, help: spec.help, labelNames, registers: [registry] }),
      );
    } else {
      histograms.set(
        name,
        existing instanceof Histogram
          ? (existing as Histogram<string>)
          : new Histogram<string>({
              name,
              help: spec.help,
              labelNames,
              buckets: histogramBuckets(spec),
              registers: [registry],
            }),
      );
    }
  }
  return {
    observe(name: SignerHistogramName, seconds: number, labels: Readonly<Record<string, string>>) {
      histograms.get(name)?.observe(labels, seconds);
    },
    increment(name: SignerCounterName) {
      counters.get(name)?.inc();
    },
  };
}
