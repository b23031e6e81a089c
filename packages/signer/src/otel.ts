import { LATENCY_BUCKETS_SECONDS, metricsOf } from '@hyper/s2s-contracts';
import { type Counter, type Histogram, type Meter, metrics } from '@opentelemetry/api';
import type { SignerCounterName, SignerHistogramName, SignerMetricsSink } from './metrics.js';

export interface OtelMetricsOptions {
  /** Default: `metrics.getMeter('@hyper/s2s-signer')` from the global MeterProvider. */
  meter?: Meter;
}

/**
 * A SignerMetricsSink on @opentelemetry/api with the same instruments, names and attributes as the
 * prometheus sink (METRICS in @hyper/s2s-contracts): histograms in seconds with the contract's
 * buckets as advice, pool hit/miss counters. OTel's Prometheus exporter appends `_total` to counters.
 */
export function otelMetrics(options: OtelMetricsOptions = {}): SignerMetricsSink {
  const meter = options.meter ?? metrics.getMeter('@hyper/s2s-signer');
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  for (const [name, spec] of metricsOf('signer')) {
    if (spec.kind === 'counter') counters.set(name, meter.createCounter(name, { description: spec.help }));
    else {
      histograms.set(
        name,
        meter.createHistogram(name, {
          description: spec.help,
          unit: 's',
          advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_SECONDS] },
        }),
      );
    }
  }
  return {
    observe(name: SignerHistogramName, seconds: number, labels: Readonly<Record<string, string>>) {
      histograms.get(name)?.record(seconds, labels);
    },
    increment(name: SignerCounterName) {
      counters.get(name)?.add(1);
    },
  };
}
