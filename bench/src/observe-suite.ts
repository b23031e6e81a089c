import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import { createVerifier, type MetricsSink, memoryReplayStore, VERIFY_CHANNEL } from '@hyper/s2s-verifier';
import { prometheusMetrics } from '@hyper/s2s-verifier/prometheus';
import { Registry } from 'prom-client';
import { AUDIENCE, createFixture, ISSUER, mintTokens, roundStore, SCOPE } from './fixtures.js';
import { type Candidate, type Measurement, measure } from './harness.js';

export interface ObserveSuiteResult {
  concurrency: number;
  results: Measurement[];
}

/**
 * What the observability pack costs on verify: the same verifier with no sink, with the counters
 * only (the sink before latency histograms), with counters + histograms, and with a live
 * `hyper:s2s:verify` subscriber on top. Interleaved rounds, medians.
 */
export async function observeSuite(concurrencies: number[], opsPerRound: number, rounds: number) {
  const fixture = createFixture();
  const jwks = await fixture.signer.jwks();
  const full = prometheusMetrics({ registry: new Registry() });
  const countersOnly: MetricsSink = { increment: prometheusMetrics({ registry: new Registry() }).increment };
  let feed = 0;
  const listener = () => {
    feed++;
  };
  const out: ObserveSuiteResult[] = [];
  for (const concurrency of concurrencies) {
    const tokens = await mintTokens(fixture, opsPerRound);
    const candidate = (name: string, metrics: MetricsSink | undefined, live = false): Candidate => {
      let i = 0;
      // One verifier per candidate, as a service keeps one (see roundStore).
      const replay = roundStore();
      const verifier = createVerifier({
        keys: { jwks },
        audience: AUDIENCE,
        issuers: [ISSUER],
        replayStore: replay.store,
        ...(metrics ? { metrics } : {}),
      });
      return {
        name,
        setup: async () => {
          // The same tokens are first presentations again.
          await replay.empty();
          i = 0;
          if (live) subscribe(VERIFY_CHANNEL, listener);
          else unsubscribe(VERIFY_CHANNEL, listener);
        },
        op: async () => {
          const r = await verifier.verify(tokens[i++ % tokens.length]!, { scope: SCOPE, path: '/bench' });
          if (!r.ok) throw new Error(`${name}: ${r.reason}`);
        },
      };
    };
    out.push({
      concurrency,
      results: await measure(
        [
          candidate('verify, no sink', undefined),
          candidate('verify + counters only', countersOnly),
          candidate('verify + counters + histograms', full),
          candidate('verify + histograms + channel subscriber', full, true),
        ],
        { concurrency, opsPerRound, rounds, warmupOps: opsPerRound },
      ),
    });
  }
  unsubscribe(VERIFY_CHANNEL, listener);
  return { results: out, feed };
}

/**
 * The added main-thread work in isolation (steadier than a throughput ratio on a shared machine):
 * nanoseconds per verify for the two clock reads and the two histogram samples it records.
 */
export function histogramCostNs(iterations: number): number {
  const sink = prometheusMetrics({ registry: new Registry() });
  const labels = { status: '200', path: '/bench', scope: SCOPE };
  const remember = Object.freeze({ outcome: 'fresh' });
  const run = () => {
    for (let i = 0; i < iterations; i++) {
      const a = performance.now();
      const b = performance.now();
      sink.observe?.(VERIFIER_METRIC_NAMES.replayRememberDuration, (b - a) / 1000, remember);
      sink.observe?.(VERIFIER_METRIC_NAMES.authDuration, (performance.now() - a) / 1000, {
        status: labels.status,
        path: labels.path,
        scope: labels.scope,
      });
    }
  };
  run();
  const t0 = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - t0) / iterations;
}

/**
 * Nanoseconds per sequential verify (static keyset, memory store, counters-only sink) and per
 * verify's histogram work, measured alternately in the same process so machine load hits both alike;
 * medians of `rounds`. Their ratio is the histograms' share of a verify.
 */
export async function histogramShare(ops: number, rounds: number) {
  const fixture = createFixture();
  const jwks = await fixture.signer.jwks();
  const countersOnly: MetricsSink = { increment: prometheusMetrics({ registry: new Registry() }).increment };
  const verifyNs: number[] = [];
  const histogramNs: number[] = [];
  // One verifier for every round, as a service keeps one (see roundStore); each round mints new tokens.
  const verifier = createVerifier({
    keys: { jwks },
    audience: AUDIENCE,
    issuers: [ISSUER],
    replayStore: memoryReplayStore(),
    metrics: countersOnly,
  });
  for (let round = 0; round < rounds; round++) {
    const tokens = await mintTokens(fixture, ops);
    const t0 = process.hrtime.bigint();
    for (const token of tokens) await verifier.verify(token, { scope: SCOPE, path: '/bench' });
    verifyNs.push(Number(process.hrtime.bigint() - t0) / ops);
    histogramNs.push(histogramCostNs(ops * 10));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { verifyNs: median(verifyNs), histogramNs: median(histogramNs) };
}
