import { METRIC_NAMES, MIN_JWKS_COOLDOWN_MS, metricsOf } from '@hyper/s2s-contracts';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BASELINE_ROUTES } from '../src/metric-baseline.js';
import { JWKS_FETCH_FAILURES_METRIC, JWKS_FETCHES_METRIC, prometheusMetrics } from '../src/prometheus.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { type JwksServer, startJwksServer, text } from './harness/jwks-server.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

let key: TestKey;
let server: JwksServer | undefined;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };

async function counterValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v));
  return match?.value ?? 0;
}

describe('prom-client adapter', () => {
  it('registers every verifier metric of the contract catalogue on the given registry', async () => {
    const registry = new Registry();
    prometheusMetrics({ registry });
    const registered = (await registry.getMetricsAsJSON()).map((metric) => [metric.name, metric.type]);
    const expected = metricsOf('verifier').map(([name, spec]) => [name, spec.kind]);
    expect(registered.sort()).toEqual(expected.sort());
    expect(registered.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        ...Object.values(METRIC_NAMES),
        JWKS_FETCHES_METRIC,
        JWKS_FETCH_FAILURES_METRIC,
      ]),
    );
  });

  it('counts verifications with reason, path and scope labels', async () => {
    const registry = new Registry();
    const verifier = liveVerifier({ metrics: prometheusMetrics({ registry }) });
    const token = await sign(key, nowSeconds());
    await verifier.verify(token, endpoint);
    await verifier.verify(token, endpoint);
    await verifier.verify(await sign(key, nowSeconds(), { scope: 'join_tokens:issue' }), endpoint);
    await liveVerifier({ metrics: prometheusMetrics({ registry }), replayStore: downStore }).verify(
      await sign(key, nowSeconds()),
      endpoint,
    );
    expect(await counterValue(registry, METRIC_NAMES.success, { reason: 'ok', ...endpoint })).toBe(1);
    expect(
      await counterValue(registry, METRIC_NAMES.unauthorized, { reason: 'replayed_token', ...endpoint }),
    ).toBe(1);
    expect(
      await counterValue(registry, METRIC_NAMES.forbidden, { reason: 'insufficient_scope', ...endpoint }),
    ).toBe(1);
    expect(
      await counterValue(registry, 's2s_auth_503', { reason: 'replay_store_unavailable', ...endpoint }),
    ).toBe(1);
    const exposition = await registry.metrics();
    expect(exposition).toContain(
      's2s_auth_401{reason="replayed_token",path="/integrations/spaces",scope="spaces:create"} 1',
    );
    expect(exposition).not.toContain(token.split('.')[1]);
  });

  // A counter series' first sample has no rate: without a 0 baseline, rate() misses the increments that
  // create it, and the ops alerts stayed silent on the first 503s (metric-baseline.ts).
  it('exports the series the alerts read at 0: fetch failures and purge results at once, a route on first use', async () => {
    const registry = new Registry();
    const verifier = liveVerifier({ metrics: prometheusMetrics({ registry }) });
    const exposition = async () => registry.metrics();
    for (const reason of [
      'timeout',
      'network',
      'http_status',
      'too_large',
      'invalid_json',
      'invalid_keyset',
    ]) {
      expect(await exposition()).toContain(`s2s_jwks_fetch_failures_total{reason="${reason}"} 0`);
    }
    for (const result of ['deleted', 'idle', 'lock_busy', 'error']) {
      expect(await exposition()).toContain(`s2s_replay_purge_runs_total{result="${result}"} 0`);
      // The purge histogram starts at 0 too, so increase() sees a replica's first timed run.
      expect(await exposition()).toContain(`s2s_replay_purge_duration_seconds_count{result="${result}"} 0`);
      expect(await exposition()).toContain(
        `s2s_replay_purge_duration_seconds_bucket{le="30",result="${result}"} 0`,
      );
    }
    expect(await exposition()).not.toContain('s2s_auth_503{');
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    const labels = 'path="/integrations/spaces",scope="spaces:create"';
    for (const series of [
      `s2s_auth_503{reason="jwks_unavailable",${labels}} 0`,
      `s2s_auth_503{reason="replay_store_unavailable",${labels}} 0`,
      `s2s_auth_401{reason="unknown_kid",${labels}} 0`,
      `s2s_auth_401{reason="replayed_token",${labels}} 0`,
      `s2s_auth_401{reason="invalid_signature",${labels}} 0`,
      `s2s_auth_401{reason="invalid_audience",${labels}} 0`,
      `s2s_auth_401{reason="invalid_issuer",${labels}} 0`,
      `s2s_auth_403{reason="insufficient_scope",${labels}} 0`,
      `s2s_auth_success{reason="ok",${labels}} 1`,
    ]) {
      expect(await exposition()).toContain(series);
    }
  });

  it(`gives a baseline to at most ${MAX_BASELINE_ROUTES} routes (route templates built dynamically stay bounded)`, async () => {
    const registry = new Registry();
    const sink = prometheusMetrics({ registry });
    for (let i = 0; i <= MAX_BASELINE_ROUTES; i++) {
      sink.increment(METRIC_NAMES.success, { reason: 'ok', path: `/r/${i}`, scope: 'spaces:create' });
    }
    const text = await registry.metrics();
    const zeroed = (path: string) =>
      text.includes(`s2s_auth_503{reason="jwks_unavailable",path="${path}",scope="spaces:create"} 0`);
    expect(zeroed('/r/0')).toBe(true);
    expect(zeroed(`/r/${MAX_BASELINE_ROUTES - 1}`)).toBe(true);
    expect(zeroed(`/r/${MAX_BASELINE_ROUTES}`)).toBe(false);
  });

  it('counts JWKS fetches and failures by reason', async () => {
    const registry = new Registry();
    server = await startJwksServer(file.jwks);
    const verifier = createVerifier({
      keys: {
        jwksUrl: server.url,
        failureBackoffMs: 0,
        cooldownMs: MIN_JWKS_COOLDOWN_MS,
        cacheMaxAgeMs: 100,
      },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      metrics: prometheusMetrics({ registry }),
    });
    await verifier.warmup();
    server.respond(text('oops', 500, 'text/plain'));
    await new Promise((resolve) => setTimeout(resolve, 120));
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    const fetches = await counterValue(registry, JWKS_FETCHES_METRIC);
    expect(fetches).toBeGreaterThanOrEqual(2);
    expect(fetches).toBe(server.requests);
    expect(await counterValue(registry, JWKS_FETCH_FAILURES_METRIC, { reason: 'http_status' })).toBe(1);
  });

  it('reuses the counters when a second adapter is made on the same registry', async () => {
    const registry = new Registry();
    const first = prometheusMetrics({ registry });
    const second = prometheusMetrics({ registry });
    const labels = { reason: 'ok', path: endpoint.path, scope: endpoint.scope } as const;
    first.increment(METRIC_NAMES.success, labels);
    second.increment(METRIC_NAMES.success, labels);
    second.jwksFetch?.('timeout');
    // Both adapters count into the one registered counter: nothing is lost to an unregistered copy.
    expect(await counterValue(registry, METRIC_NAMES.success, labels)).toBe(2);
    expect(await counterValue(registry, JWKS_FETCHES_METRIC)).toBe(1);
    expect(await counterValue(registry, JWKS_FETCH_FAILURES_METRIC, { reason: 'timeout' })).toBe(1);
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names.filter((name) => name === METRIC_NAMES.success)).toHaveLength(1);
  });
});
