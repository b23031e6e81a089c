import { prometheusMetrics as signerMetrics } from '@hyper/s2s-signer/prometheus';
import { prometheusMetrics as verifierMetrics } from '@hyper/s2s-verifier/prometheus';
import { Registry } from 'prom-client';

/**
 * Every series name a Prometheus scrape of Core and Lite can show: read from what the SDKs' own
 * prometheus sinks register (not a hand list); histograms expose _bucket, _sum and _count.
 */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const registry = new Registry();
  verifierMetrics({ registry });
  signerMetrics({ registry });
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}
