import {
  LATENCY_BUCKETS_SECONDS,
  METRIC_NAMES,
  metricsOf,
  PURGE_BUCKETS_SECONDS,
  VERIFIER_METRIC_NAMES,
} from '@hyper/s2s-contracts';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { otelMetrics } from '../src/otel.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { startPurger } from '../src/replay/purge.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

const V = VERIFIER_METRIC_NAMES;
const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };

let key: TestKey;
let provider: MeterProvider | undefined;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

function inMemory() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('test'),
    async collect() {
      await reader.forceFlush();
      const metrics = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      return new Map(metrics.map((m) => [m.descriptor.name, m]));
    },
  };
}

describe('@hyper/s2s-verifier/otel', () => {
  it('records the prometheus sink names and attributes through the OTel SDK in-memory reader', async () => {
    const otel = inMemory();
    const metrics = otelMetrics({ meter: otel.meter });
    const verifier = liveVerifier({ metrics });
    const token = await sign(key, nowSeconds());
    await verifier.verify(token, endpoint);
    await verifier.verify(token, endpoint);
    await liveVerifier({ metrics, replayStore: downStore }).verify(await sign(key, nowSeconds()), endpoint);
    const purger = startPurger(memoryReplayStore(), { metrics, intervalMs: 3_600_000 });
    await purger.runNow();
    await purger.stop();

    const byName = await otel.collect();
    const catalogue = new Map(metricsOf('verifier'));
    for (const [name, metric] of byName) {
      expect(catalogue.has(name)).toBe(true);
      expect(metric.descriptor.description).toBe(catalogue.get(name)?.help);
    }
    const points = (name: string) =>
      byName.get(name)?.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })) ?? [];
    // Alerted series start at 0 (metric-baseline.ts): the route's on its first verification.
    const byReason = (name: string) =>
      Object.fromEntries(points(name).map((p) => [String(p.attributes.reason ?? p.attributes.result), p]));
    expect(points(METRIC_NAMES.success)).toEqual([{ attributes: { reason: 'ok', ...endpoint }, value: 1 }]);
    const zero = (reason: string) => ({ attributes: { reason, ...endpoint }, value: 0 });
    expect(byReason(METRIC_NAMES.unauthorized)).toEqual({
      replayed_token: { attributes: { reason: 'replayed_token', ...endpoint }, value: 1 },
      unknown_kid: zero('unknown_kid'),
      invalid_signature: zero('invalid_signature'),
      invalid_audience: zero('invalid_audience'),
      invalid_issuer: zero('invalid_issuer'),
    });
    expect(byReason(METRIC_NAMES.forbidden)).toEqual({
      insufficient_scope: { attributes: { reason: 'insufficient_scope', ...endpoint }, value: 0 },
    });
    expect(byReason(METRIC_NAMES.unavailable)).toEqual({
      replay_store_unavailable: { attributes: { reason: 'replay_store_unavailable', ...endpoint }, value: 1 },
      jwks_unavailable: { attributes: { reason: 'jwks_unavailable', ...endpoint }, value: 0 },
    });
    expect(byReason(V.purgeRuns)).toEqual({
      deleted: { attributes: { result: 'deleted' }, value: 0 },
      idle: { attributes: { result: 'idle' }, value: 1 },
      lock_busy: { attributes: { result: 'lock_busy' }, value: 0 },
      error: { attributes: { result: 'error' }, value: 0 },
    });

    const duration = byName.get(V.authDuration)!;
    expect(duration.descriptor.unit).toBe('s');
    expect(
      duration.dataPoints
        .map((p) => p.attributes)
        .sort((a, b) => String(a.status).localeCompare(String(b.status))),
    ).toEqual([
      { status: '200', ...endpoint },
      { status: '401', ...endpoint },
      { status: '503', ...endpoint },
    ]);
    const histogram = duration.dataPoints[0]!.value as { count: number; buckets: { boundaries: number[] } };
    expect(histogram.count).toBe(1);
    expect(histogram.buckets.boundaries).toEqual([...LATENCY_BUCKETS_SECONDS]);
    expect(
      byName
        .get(V.replayRememberDuration)
        ?.dataPoints.map((p) => p.attributes.outcome)
        .sort(),
    ).toEqual(['fresh', 'replayed', 'unavailable']);
    // One purge run (idle), timed, in the purge buckets: 30 s is the switch threshold REPLAY.md names.
    const purgeRun = byName.get(V.purgeDuration)!;
    expect(purgeRun.dataPoints.map((p) => p.attributes)).toEqual([{ result: 'idle' }]);
    const purgeHistogram = purgeRun.dataPoints[0]!.value as {
      count: number;
      buckets: { boundaries: number[] };
    };
    expect(purgeHistogram.count).toBe(1);
    expect(purgeHistogram.buckets.boundaries).toEqual([...PURGE_BUCKETS_SECONDS]);
  });

  it('defaults to the global meter provider without throwing when none is registered', async () => {
    const verifier = liveVerifier({ metrics: otelMetrics() });
    expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
  });
});
