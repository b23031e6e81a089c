import { histogramBuckets, type MetricSide, metricsOf } from './metrics.js';

/**
 * The part of an OpenTelemetry `Meter` that creating the SDKs' instruments needs, written out
 * structurally: `@opentelemetry/api`'s Meter fits it, and the contracts never import OpenTelemetry
 * (a service that does not ask for OTel metrics does not load it).
 */
export interface InstrumentMeter<Counter, Histogram> {
  createCounter(name: string, options: { description: string }): Counter;
  createHistogram(
    name: string,
    options: { description: string; unit: string; advice: { explicitBucketBoundaries: number[] } },
  ): Histogram;
}

export interface MetricInstruments<Counter, Histogram> {
  readonly counters: ReadonlyMap<string, Counter>;
  readonly histograms: ReadonlyMap<string, Histogram>;
}

/**
 * One instrument per metric a side exports (METRICS): counters with the contract's help text,
 * histograms in seconds with each metric's buckets (histogramBuckets) as advice, keyed by metric name. The
 * signer's and the verifier's `otelMetrics()` sinks both start from it.
 */
export function createMetricInstruments<Counter, Histogram>(
  meter: InstrumentMeter<Counter, Histogram>,
  side: MetricSide,
): MetricInstruments<Counter, Histogram> {
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  for (const [name, spec] of metricsOf(side)) {
    if (spec.kind === 'counter') counters.set(name, meter.createCounter(name, { description: spec.help }));
    else {
      histograms.set(
        name,
        meter.createHistogram(name, {
          description: spec.help,
          unit: 's',
          advice: { explicitBucketBoundaries: histogramBuckets(spec) },
        }),
      );
    }
  }
  return { counters, histograms };
}
