import { createMetricInstruments } from '@hyper/s2s-contracts';
import { type Meter, metrics } from '@opentelemetry/api';
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
  const { counters, histograms } = createMetricInstruments(meter, 'signer');
  return {
    observe(name: SignerHistogramName, seconds: number, labels: Readonly<Record<string, string>>) {
      histograms.get(name)?.record(seconds, labels);
    },
    increment(name: SignerCounterName) {
      counters.get(name)?.add(1);
    },
  };
}
