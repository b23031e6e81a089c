import { LATENCY_BUCKETS_SECONDS, metricsOf, SIGNER_METRIC_NAMES } from '@hyper/s2s-contracts';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { unhandledRejectionsDuring } from '../../../test-support/unhandled-rejections.js';
import { createSigner, type Signer, SignerConfigError, type SignerMetricsSink } from '../src/index.js';
import { otelMetrics } from '../src/otel.js';
import { prometheusMetrics } from '../src/prometheus.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { AUDIENCE, ISSUER, RSA_KEY, SUBJECT } from './helpers/vectors.js';

const S = SIGNER_METRIC_NAMES;

interface Recorded {
  observed: { name: string; seconds: number; labels: Record<string, string> }[];
  counted: string[];
  metrics: SignerMetricsSink;
}

function recorder(): Recorded {
  const observed: Recorded['observed'] = [];
  const counted: string[] = [];
  return {
    observed,
    counted,
    metrics: {
      observe: (name, seconds, labels) => observed.push({ name, seconds, labels: { ...labels } }),
      increment: (name) => counted.push(name),
    },
  };
}

const kms = useKmsTestServer();
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((s) => s.close()));
});

const base = { issuer: ISSUER, subject: SUBJECT, audience: AUDIENCE, logger: { info() {}, warn() {} } };
const pemSigner = (metrics: SignerMetricsSink) =>
  createSigner({ ...base, key: { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid }, metrics });

function kmsSigner(metrics: SignerMetricsSink, extra: Record<string, unknown> = {}) {
  const name = keyVersionName();
  kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
  const signer = createSigner({
    ...base,
    key: { kms: { keyVersionName: name, client: kms.client(), retryBackoffMs: 0 }, kid: 'lite-2026-03' },
    metrics,
    ...extra,
  });
  signers.push(signer);
  return signer;
}

const summary = (r: Recorded) => r.observed.map(({ name, labels }) => ({ name, labels }));

describe('signer metrics', () => {
  it('time every sign() by outcome', async () => {
    const r = recorder();
    const signer = pemSigner(r.metrics);
    await signer.sign({ scope: 'spaces:create' });
    await expect(signer.sign({ scope: 'admin:everything' })).rejects.toThrow();
    expect(summary(r)).toEqual([
      { name: S.signDuration, labels: { outcome: 'ok' } },
      { name: S.signDuration, labels: { outcome: 'error' } },
    ]);
    for (const { seconds } of r.observed) expect(seconds).toBeGreaterThanOrEqual(0);
  });

  it('time every KMS attempt by method and outcome, retries included', async () => {
    const r = recorder();
    const signer = kmsSigner(r.metrics);
    await signer.sign({ scope: 'spaces:create' });
    kms.server.setFaults({ unavailableTimes: 1 });
    await signer.sign({ scope: 'spaces:create' });
    kms.server.setFaults({ resourceExhaustedTimes: 1 });
    await expect(signer.sign({ scope: 'spaces:create' })).rejects.toThrow();
    expect(summary(r)).toEqual([
      { name: S.kmsCallDuration, labels: { method: 'GetPublicKey', outcome: 'ok' } },
      { name: S.kmsCallDuration, labels: { method: 'AsymmetricSign', outcome: 'ok' } },
      { name: S.signDuration, labels: { outcome: 'ok' } },
      { name: S.kmsCallDuration, labels: { method: 'AsymmetricSign', outcome: 'unavailable' } },
      { name: S.kmsCallDuration, labels: { method: 'AsymmetricSign', outcome: 'ok' } },
      { name: S.signDuration, labels: { outcome: 'ok' } },
      { name: S.kmsCallDuration, labels: { method: 'AsymmetricSign', outcome: 'resource_exhausted' } },
      { name: S.signDuration, labels: { outcome: 'error' } },
    ]);
  });

  it('count pool hits and misses', async () => {
    const r = recorder();
    const signer = kmsSigner(r.metrics, { prefetch: { size: 2, maxAgeSeconds: 30 } });
    await signer.sign({ scope: 'spaces:create' });
    for (let i = 0; i < 200 && kms.server.calls.asymmetricSign < 3; i++)
      await new Promise((ok) => setTimeout(ok, 10));
    await new Promise((ok) => setTimeout(ok, 50));
    await signer.sign({ scope: 'spaces:create' });
    expect(r.counted).toEqual([S.poolMisses, S.poolHits]);
  });

  it('survive a sink that throws', async () => {
    const boom = () => {
      throw new Error('sink down');
    };
    const signer = pemSigner({ observe: boom, increment: boom });
    await expect(signer.sign({ scope: 'spaces:create' })).resolves.toMatch(/^eyJ/);
  });

  it('survive an async sink whose observe and increment reject, with no unhandled rejection', async () => {
    const calls: string[] = [];
    const rejecting = (method: string) => async () => {
      calls.push(method);
      throw new Error('push gateway down');
    };
    const unhandled = await unhandledRejectionsDuring(async () => {
      // A KMS key with a pool: sign() observes durations and counts a pool miss.
      const signer = kmsSigner(
        { observe: rejecting('observe'), increment: rejecting('increment') },
        { prefetch: { size: 1, maxAgeSeconds: 30 } },
      );
      await expect(signer.sign({ scope: 'spaces:create' })).resolves.toMatch(/^eyJ/);
    });
    expect(calls).toContain('observe');
    expect(calls).toContain('increment');
    expect(unhandled).toEqual([]);
  });

  it('refuse a sink without observe and increment at startup', () => {
    expect(() => pemSigner({} as SignerMetricsSink)).toThrow(SignerConfigError);
  });
});

describe('prometheus sink', () => {
  it('registers every signer metric of the contract catalogue and records into them', async () => {
    const registry = new Registry();
    const signer = pemSigner(prometheusMetrics({ registry }));
    prometheusMetrics({ registry });
    await signer.sign({ scope: 'spaces:create' });
    const registered = (await registry.getMetricsAsJSON()).map((m) => [m.name, m.type]).sort();
    expect(registered).toEqual(
      metricsOf('signer')
        .map(([name, spec]) => [name, spec.kind])
        .sort(),
    );
    const text = await registry.metrics();
    expect(text).toContain('s2s_signer_sign_duration_seconds_count{outcome="ok"} 1');
    const les = [...text.matchAll(/s2s_signer_sign_duration_seconds_bucket\{le="([^"]+)"/g)].map((m) => m[1]);
    expect(les).toEqual([...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
  });
});

describe('otel sink', () => {
  it('records the same names and attributes through the OTel SDK in-memory reader', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = otelMetrics({ meter: provider.getMeter('test') });
    const signer = kmsSigner(metrics, { prefetch: { size: 1, maxAgeSeconds: 30 } });
    await signer.sign({ scope: 'spaces:create' });
    await reader.forceFlush();
    const exported = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    const byName = new Map(exported.map((m) => [m.descriptor.name, m]));
    const names = [...byName.keys()].sort();
    expect(names).toEqual([S.kmsCallDuration, S.poolMisses, S.signDuration].sort());
    for (const name of names) expect(metricsOf('signer').map(([n]) => n)).toContain(name);
    const kms = byName.get(S.kmsCallDuration)!;
    expect(kms.descriptor.unit).toBe('s');
    expect(kms.dataPoints.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([
        { method: 'GetPublicKey', outcome: 'ok' },
        { method: 'AsymmetricSign', outcome: 'ok' },
      ]),
    );
    const sign = byName.get(S.signDuration)!;
    expect(sign.dataPoints[0]?.attributes).toEqual({ outcome: 'ok' });
    const point = sign.dataPoints[0]!;
    expect((point.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual([
      ...LATENCY_BUCKETS_SECONDS,
    ]);
    await provider.shutdown();
  });
});
