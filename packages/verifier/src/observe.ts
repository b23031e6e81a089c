import {
  ignoreRejection,
  type Logger,
  loggableText,
  MAX_KID_LENGTH,
  METRIC_NAMES,
  type MetricName,
  type Reason,
  type UnavailableCause,
  utf8Length,
  VERIFIER_METRIC_NAMES,
} from '@hyper/s2s-contracts';
import type { PurgeResult, VerifierHistogramName } from './metrics.js';

/**
 * 503 outcomes (fail closed on JWKS or replay store) are neither a 401 nor a 403; they get a counter of
 * their own with the same labels so an outage is visible next to the contract's three counters.
 */
export const UNAVAILABLE_METRIC_NAME = METRIC_NAMES.unavailable;

export type AuthMetricName = MetricName | typeof UNAVAILABLE_METRIC_NAME;

/** Bounded labels: reason from the closed vocabulary, path and scope as the calling code gave them. */
export interface AuthMetricLabels {
  readonly reason: Reason;
  /** The route template the caller passed (e.g. `/integrations/spaces`), never the request URL. */
  readonly path: string;
  /** The scope(s) the endpoint requires, space-separated; never what the token claims. */
  readonly scope: string;
}

/** Closed set of JWKS fetch outcomes (metric label values). */
export const JWKS_FETCH_OUTCOMES = [
  'ok',
  'timeout',
  'network',
  'http_status',
  'too_large',
  'invalid_json',
  'invalid_keyset',
] as const;
export type JwksFetchOutcome = (typeof JWKS_FETCH_OUTCOMES)[number];

export interface MetricsSink {
  /** One call per verification: `s2s_auth_success`, `s2s_auth_401`, `s2s_auth_403` or `s2s_auth_503`. */
  increment(name: AuthMetricName, labels: AuthMetricLabels): void;
  /** Optional: one call per JWKS request that went to the network, with how it ended. */
  jwksFetch?(outcome: JwksFetchOutcome): void;
  /**
   * Optional: one latency sample, in seconds, of a histogram in METRICS (@hyper/s2s-contracts):
   * s2s_auth_duration_seconds {status, path, scope}, s2s_replay_remember_duration_seconds {outcome},
   * s2s_jwks_fetch_duration_seconds {outcome}. Without it verify reads no clock for metrics.
   */
  observe?(name: VerifierHistogramName, seconds: number, labels: Readonly<Record<string, string>>): void;
  /**
   * Optional: one call per purge run (startPurger's `metrics`), with the rows it deleted and how long the
   * run took (monotonic clock).
   */
  purge?(result: PurgeResult, deleted: number, seconds?: number): void;
}

const METRIC_FOR_STATUS: Readonly<Record<200 | 401 | 403 | 503, AuthMetricName>> = {
  200: METRIC_NAMES.success,
  401: METRIC_NAMES.unauthorized,
  403: METRIC_NAMES.forbidden,
  503: UNAVAILABLE_METRIC_NAME,
};

/** Header and claim values copied from a token into a log (never the token or any segment of it). */
export interface TokenFacts {
  kid?: string;
  iss?: string;
  sub?: string;
  jti?: string;
  /** The token's audience: a string, or an array's strings joined by spaces. */
  aud?: string;
}

/**
 * What a rejection log may carry about the token: its values at the top level only once the signature
 * verified; before that (forged, unknown kid, bad signature) under `unverified`, so nobody mistakes a
 * forger's `iss` for the caller's.
 */
export interface RejectionFacts extends TokenFacts {
  unverified?: TokenFacts;
  /** 503 only: why the dependency failed (the contract's closed cause set). */
  cause?: UnavailableCause;
  /** invalid_audience only: the audience this verifier accepts, beside the token's `aud`. */
  expectedAudience?: string;
  /** invalid_issuer only: the issuers this verifier accepts, beside the token's `iss`. */
  allowedIssuers?: readonly string[];
  /** expired_signature, immature_signature, invalid_iat, ttl_exceeded only: the token's numeric times. */
  iat?: number;
  nbf?: number;
  exp?: number;
  /** Beside them: this verifier's clock (epoch seconds) when it judged the token. */
  now?: number;
}

/**
 * Fans verification events out to the optional sink and logger. A throwing sink or logger is
 * contained: observability must not turn into an exception from `verify`.
 */
export class Observer {
  readonly #metrics: MetricsSink | undefined;
  readonly #logger: Logger | undefined;
  /** The sink takes latency samples: only then does verify read the clock for metrics. */
  readonly timed: boolean;

  constructor(metrics: MetricsSink | undefined, logger: Logger | undefined) {
    this.#metrics = metrics;
    this.#logger = logger;
    this.timed = typeof metrics?.observe === 'function';
  }

  /** Whether rejection facts are wanted (a logger is attached): spares building them otherwise. */
  get logging(): boolean {
    return this.#logger !== undefined;
  }

  authResult(
    status: 200 | 401 | 403 | 503,
    reason: Reason,
    path: string,
    scope: string,
    facts: RejectionFacts | undefined,
  ): void {
    if (this.#metrics !== undefined) {
      try {
        ignoreRejection(this.#metrics.increment(METRIC_FOR_STATUS[status], { reason, path, scope }));
      } catch {
        // contained, see class comment
      }
    }
    if (status !== 200 && this.#logger !== undefined) {
      this.warn({ event: 's2s_auth_rejected', status, reason, path, scope, ...facts }, 's2s auth rejected');
    }
  }

  jwksFetch(outcome: JwksFetchOutcome, seconds: number): void {
    try {
      ignoreRejection(this.#metrics?.jwksFetch?.(outcome));
    } catch {
      // contained
    }
    this.observe(VERIFIER_METRIC_NAMES.jwksFetchDuration, seconds, { outcome });
  }

  observe(name: VerifierHistogramName, seconds: number, labels: Readonly<Record<string, string>>): void {
    try {
      ignoreRejection(this.#metrics?.observe?.(name, seconds, labels));
    } catch {
      // contained
    }
  }

  info(obj: object, msg: string): void {
    try {
      ignoreRejection(this.#logger?.info(obj, msg));
    } catch {
      // contained
    }
  }

  warn(obj: object, msg: string): void {
    try {
      ignoreRejection(this.#logger?.warn(obj, msg));
    } catch {
      // contained
    }
  }
}

/**
 * A header kid as logs and the live feed show it: a string the contract admits (at most MAX_KID_LENGTH
 * UTF-8 bytes, SPEC.md H2), cleaned like any sender text; undefined otherwise or when nothing is left.
 */
export function loggableKid(kid: unknown): string | undefined {
  if (typeof kid !== 'string' || utf8Length(kid) > MAX_KID_LENGTH) return undefined;
  const cleaned = loggableText(kid, MAX_KID_LENGTH);
  return cleaned === '' ? undefined : cleaned;
}
