import { ignoreRejection, SIGNER_METRIC_NAMES } from '@hyper/s2s-contracts';
import { SignerConfigError } from './errors.js';
import type { KmsCallOutcome } from './kms/call-with-retry.js';

export type SignerHistogramName =
  | typeof SIGNER_METRIC_NAMES.signDuration
  | typeof SIGNER_METRIC_NAMES.kmsCallDuration;
export type SignerCounterName = typeof SIGNER_METRIC_NAMES.poolHits | typeof SIGNER_METRIC_NAMES.poolMisses;

/**
 * Where the signer reports (METRICS in @hyper/s2s-contracts has names, labels and help):
 * s2s_signer_sign_duration_seconds {outcome: ok | error}, s2s_kms_call_duration_seconds
 * {method: AsymmetricSign | GetPublicKey, outcome: KMS_CALL_OUTCOMES}, s2s_signer_pool_hits_total,
 * s2s_signer_pool_misses_total. `prometheusMetrics()` (./prometheus) and `otelMetrics()` (./otel) are two.
 */
export interface SignerMetricsSink {
  observe(name: SignerHistogramName, seconds: number, labels: Readonly<Record<string, string>>): void;
  increment(name: SignerCounterName): void;
}

/** Reports one KMS RPC attempt; undefined when no sink is configured (then no clock is read). */
export type KmsCallObserver = (method: string, outcome: KmsCallOutcome, seconds: number) => void;

/**
 * The sink behind try/catch, its returned promise (an async sink) given a rejection handler: a sink that
 * throws or rejects must not fail a sign() nor end the process with an unhandled rejection
 * (observability is not the request path's business).
 */
export class SignerTelemetry {
  readonly #sink: SignerMetricsSink;

  constructor(sink: SignerMetricsSink) {
    this.#sink = sink;
  }

  observe(name: SignerHistogramName, seconds: number, labels: Readonly<Record<string, string>>): void {
    try {
      ignoreRejection(this.#sink.observe(name, seconds, labels));
    } catch {
      // contained
    }
  }

  increment(name: SignerCounterName): void {
    try {
      ignoreRejection(this.#sink.increment(name));
    } catch {
      // contained
    }
  }

  readonly kmsCall: KmsCallObserver = (method, outcome, seconds) =>
    this.observe(SIGNER_METRIC_NAMES.kmsCallDuration, seconds, { method, outcome });
}

export function signerTelemetry(metrics: unknown): SignerTelemetry | undefined {
  if (metrics === undefined) return undefined;
  const m = metrics as Partial<SignerMetricsSink> | null;
  if (typeof m?.observe !== 'function' || typeof m.increment !== 'function') {
    throw new SignerConfigError('metrics', 'must have observe(name, seconds, labels) and increment(name)');
  }
  return new SignerTelemetry(m as SignerMetricsSink);
}
