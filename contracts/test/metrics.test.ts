import { describe, expect, it } from 'vitest';
import {
  createMetricInstruments,
  LATENCY_BUCKETS_SECONDS,
  METRIC_NAMES,
  METRICS,
  metricsOf,
  PURGE_BUCKETS_SECONDS,
  SIGNER_METRIC_NAMES,
  VERIFIER_METRIC_NAMES,
} from '../src/index.js';

describe('the metric catalogue', () => {
  it('describes every named metric exactly once, on its side', () => {
    const verifierNames = Object.values(VERIFIER_METRIC_NAMES);
    const signerNames = Object.values(SIGNER_METRIC_NAMES);
    expect(Object.keys(METRICS).sort()).toEqual([...verifierNames, ...signerNames].sort());
    expect(metricsOf('verifier').map(([name]) => name)).toEqual(verifierNames);
    expect(metricsOf('signer').map(([name]) => name)).toEqual(signerNames);
  });

  it('keeps the contract counters with reason, path and scope labels', () => {
    for (const name of Object.values(METRIC_NAMES)) {
      expect(METRICS[name]).toMatchObject({ kind: 'counter', labels: ['reason', 'path', 'scope'] });
    }
  });

  it('names histograms in seconds and counters without a unit (Prometheus naming)', () => {
    for (const [name, spec] of Object.entries(METRICS)) {
      expect(name).toMatch(/^s2s_[a-z0-9_]+$/);
      if (spec.kind === 'histogram') expect(name).toMatch(/_seconds$/);
      else expect(name).not.toMatch(/_seconds$/);
    }
  });

  it('has buckets from sub-millisecond to seconds, strictly increasing', () => {
    expect(LATENCY_BUCKETS_SECONDS[0]).toBeLessThan(0.001);
    expect(LATENCY_BUCKETS_SECONDS.at(-1)).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < LATENCY_BUCKETS_SECONDS.length; i++) {
      expect(LATENCY_BUCKETS_SECONDS[i]).toBeGreaterThan(LATENCY_BUCKETS_SECONDS[i - 1]!);
    }
  });
});

describe('createMetricInstruments: the OTel sinks of both SDKs start from it, without OTel here', () => {
  it.each(['signer', 'verifier'] as const)(
    '%s: one instrument per metric, histograms in seconds with the buckets',
    (side) => {
      const made: { kind: string; name: string; options: unknown }[] = [];
      const meter = {
        createCounter: (name: string, options: unknown) => made.push({ kind: 'counter', name, options }),
        createHistogram: (name: string, options: unknown) => made.push({ kind: 'histogram', name, options }),
      };
      const { counters, histograms } = createMetricInstruments(meter, side);
      const specs = metricsOf(side);
      expect(made.map(({ kind, name }) => [name, kind])).toEqual(
        specs.map(([name, spec]) => [name, spec.kind]),
      );
      expect([...counters.keys(), ...histograms.keys()].sort()).toEqual(specs.map(([name]) => name).sort());
      for (const [name, spec] of specs) {
        const options = made.find((instrument) => instrument.name === name)!.options;
        expect(options).toEqual(
          spec.kind === 'counter'
            ? { description: spec.help }
            : {
                description: spec.help,
                unit: 's',
                advice: {
                  explicitBucketBoundaries: [
                    ...(name === VERIFIER_METRIC_NAMES.purgeDuration
                      ? PURGE_BUCKETS_SECONDS
                      : LATENCY_BUCKETS_SECONDS),
                  ],
                },
              },
        );
      }
    },
  );
});

describe('PURGE_BUCKETS_SECONDS (s2s_replay_purge_duration_seconds)', () => {
  it('holds 30 s, the run time at which REPLAY.md says to switch layouts (alert S2sReplayPurgeSlow reads le="30")', () => {
    expect(PURGE_BUCKETS_SECONDS).toContain(30);
    expect(METRICS[VERIFIER_METRIC_NAMES.purgeDuration].buckets).toBe(PURGE_BUCKETS_SECONDS);
    expect([...PURGE_BUCKETS_SECONDS].sort((a, b) => a - b)).toEqual([...PURGE_BUCKETS_SECONDS]);
  });
});
