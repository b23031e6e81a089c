import {
  Deadline,
  LATENCY_BUCKETS_SECONDS,
  PURGE_BUCKETS_SECONDS,
  VERIFIER_METRIC_NAMES,
} from '@hyper/s2s-contracts';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MetricsSink } from '../src/observe.js';
import { prometheusMetrics } from '../src/prometheus.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { startPurger } from '../src/replay/purge.js';
import { createVerifier } from '../src/verifier.js';
import { type JwksServer, startJwksServer, text } from './harness/jwks-server.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

const V = VERIFIER_METRIC_NAMES;
const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };

interface Sample {
  name: string;
  seconds: number;
  labels: Record<string, string>;
}

function sampler(): { metrics: MetricsSink; samples: Sample[] } {
  const samples: Sample[] = [];
  return {
    samples,
    metrics: {
      increment: () => undefined,
      observe: (name, seconds, labels) => samples.push({ name, seconds, labels: { ...labels } }),
    },
  };
}

let key: TestKey;
let server: JwksServer | undefined;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

describe('latency histograms', () => {
  it('time every verify by status, path and scope, and every remember by outcome', async () => {
    const { metrics, samples } = sampler();
    const verifier = liveVerifier({ metrics });
    const token = await sign(key, nowSeconds());
    await verifier.verify(token, endpoint);
    await verifier.verify(token, endpoint);
    await verifier.verify('not-a-token', endpoint);
    await liveVerifier({ metrics, replayStore: downStore }).verify(await sign(key, nowSeconds()), endpoint);
    expect(samples.map(({ name, labels }) => ({ name, labels }))).toEqual([
      { name: V.replayRememberDuration, labels: { outcome: 'fresh' } },
      { name: V.authDuration, labels: { status: '200', ...endpoint } },
      { name: V.replayRememberDuration, labels: { outcome: 'replayed' } },
      { name: V.authDuration, labels: { status: '401', ...endpoint } },
      // A malformed token never reaches the replay store.
      { name: V.authDuration, labels: { status: '401', ...endpoint } },
      { name: V.replayRememberDuration, labels: { outcome: 'unavailable' } },
      { name: V.authDuration, labels: { status: '503', ...endpoint } },
    ]);
    for (const { seconds } of samples) expect(seconds).toBeGreaterThanOrEqual(0);
    // The remember is part of the verify it belongs to.
    expect(samples[0]!.seconds).toBeLessThanOrEqual(samples[1]!.seconds);
  });

  it('time JWKS fetches by outcome', async () => {
    const { metrics, samples } = sampler();
    server = await startJwksServer(file.jwks);
    const verifier = createVerifier({
      keys: { jwksUrl: server.url, failureBackoffMs: 0, cooldownMs: 1000, cacheMaxAgeMs: 100 },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      metrics,
    });
    await verifier.warmup();
    server.respond(text('oops', 500, 'text/plain'));
    await new Promise((resolve) => setTimeout(resolve, 120));
    await verifier.warmup();
    const fetches = samples.filter((sample) => sample.name === V.jwksFetchDuration);
    expect(fetches.map((sample) => sample.labels)).toEqual([{ outcome: 'ok' }, { outcome: 'http_status' }]);
  });

  it('read the clock for samples only when a sink takes them or someone subscribes to the channel', async () => {
    // The memory store answers in the calling tick, so no replay deadline reads the clock either:
    // without a sink, a verify reads the monotonic clock not at all.
    const now = vi.spyOn(performance, 'now');
    const tracked = vi.spyOn(Deadline.prototype, 'track');
    const counting = { increment: () => undefined };
    await liveVerifier({ metrics: counting }).verify(await sign(key, nowSeconds()), endpoint);
    const withoutSamples = now.mock.calls.length;
    expect(tracked).not.toHaveBeenCalled();
    expect(withoutSamples).toBe(0);
    now.mockClear();
    await liveVerifier({ metrics: sampler().metrics }).verify(await sign(key, nowSeconds()), endpoint);
    const withSamples = now.mock.calls.length;
    now.mockClear();
    await liveVerifier({ metrics: counting }).verify(await sign(key, nowSeconds()), endpoint);
    expect(now.mock.calls.length).toBe(withoutSamples);
    expect(withSamples).toBeGreaterThanOrEqual(withoutSamples + 2);
  });

  it('are prom-client histograms with the contract buckets', async () => {
    const registry = new Registry();
    const verifier = liveVerifier({ metrics: prometheusMetrics({ registry }) });
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    const exposition = await registry.metrics();
    expect(exposition).toContain(
      's2s_auth_duration_seconds_count{status="200",path="/integrations/spaces",scope="spaces:create"} 1',
    );
    expect(exposition).toContain('s2s_replay_remember_duration_seconds_count{outcome="fresh"} 1');
    const les = [...exposition.matchAll(/s2s_auth_duration_seconds_bucket\{le="([^"]+)"/g)].map((m) => m[1]);
    expect(les).toEqual([...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
  });
});

describe('purge metrics', () => {
  it('count purge runs by result and the rows they deleted', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    let nowMs = Date.now();
    const store = memoryReplayStore({ now: () => nowMs });
    await store.remember({ iss: 'i', jti: 'a', exp: Math.floor(nowMs / 1000) });
    await store.remember({ iss: 'i', jti: 'b', exp: Math.floor(nowMs / 1000) });
    const purger = startPurger(store, { metrics, intervalMs: 3_600_000 });
    await purger.runNow();
    nowMs += 2 * 86_400_000;
    await purger.runNow();
    const failing = startPurger(
      { purge: () => Promise.reject(new Error('down')) },
      { metrics, intervalMs: 3_600_000 },
    );
    await expect(failing.runNow()).rejects.toThrow('down');
    await purger.stop();
    await failing.stop();
    const exposition = await registry.metrics();
    expect(exposition).toContain('s2s_replay_purge_runs_total{result="idle"} 1');
    expect(exposition).toContain('s2s_replay_purge_runs_total{result="deleted"} 1');
    expect(exposition).toContain('s2s_replay_purge_runs_total{result="error"} 1');
    expect(exposition).toContain('s2s_replay_purged_rows_total 2');
    // Every run is timed by its result, in the purge buckets (30 s: the switch threshold of REPLAY.md).
    for (const result of ['idle', 'deleted', 'error']) {
      expect(exposition).toContain(`s2s_replay_purge_duration_seconds_count{result="${result}"} 1`);
      expect(exposition).toContain(`s2s_replay_purge_duration_seconds_bucket{le="30",result="${result}"} 1`);
    }
    const les = [
      ...exposition.matchAll(/s2s_replay_purge_duration_seconds_bucket\{le="([^"]+)",result="idle"/g),
    ];
    expect(les.map((m) => m[1])).toEqual([...PURGE_BUCKETS_SECONDS.map(String), '+Inf']);
  });

  it("a run stop() cut short is counted but not timed: its duration is not a purge's", async () => {
    const registry = new Registry();
    const source = {
      purge: async () => 0,
      remember: async () => true,
      runPurge: ({ signal }: { signal?: AbortSignal }) =>
        new Promise<{ deleted: number; batches: number; lockBusy: boolean; stopped?: true }>((resolve) => {
          signal?.addEventListener('abort', () =>
            resolve({ deleted: 5, batches: 1, lockBusy: false, stopped: true }),
          );
        }),
    };
    const purger = startPurger(source, { metrics: prometheusMetrics({ registry }), intervalMs: 3_600_000 });
    const run = purger.runNow();
    await purger.stop();
    await run;
    const exposition = await registry.metrics();
    expect(exposition).toContain('s2s_replay_purge_runs_total{result="deleted"} 1');
    expect(exposition).toContain('s2s_replay_purge_duration_seconds_count{result="deleted"} 0');
  });
});
